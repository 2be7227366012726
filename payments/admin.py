from django.contrib import admin
from django.http import HttpRequest

from payments.models import PaymentEvent


@admin.register(PaymentEvent)
class PaymentEventAdmin(admin.ModelAdmin):
    list_display = ("received_at", "gateway", "type", "event_id", "order", "outcome")
    list_filter = ("gateway", "type")
    search_fields = ("event_id", "order__id")
    readonly_fields = ("gateway", "event_id", "type", "order", "outcome", "received_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
