from django.contrib import admin
from django.http import HttpRequest

from checkout.models import Reservation


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    list_display = (
        "order",
        "user",
        "status",
        "expires_at",
        "created_at",
        "closed_at",
        "close_reason",
    )
    list_filter = ("status",)
    search_fields = ("order__id", "user__email")
    list_select_related = ("order", "user")
    readonly_fields = (
        "order",
        "user",
        "status",
        "expires_at",
        "created_at",
        "closed_at",
        "close_reason",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
