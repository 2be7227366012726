"""Payment events for staff. Events that did not match their order are flagged "needs
attention", in the event list and on the order's own admin page."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from orders.admin import OrderAdmin
from orders.models import Order
from payments import services
from payments.models import PaymentEvent


def _mismatch_display(event: PaymentEvent) -> str:
    if not event.mismatch:
        return "—"
    return "; ".join(
        f"{field}: event {json.dumps(values.get('event'))}, order {json.dumps(values.get('order'))}"
        for field, values in sorted(event.mismatch.items())
    )


@admin.register(PaymentEvent)
class PaymentEventAdmin(admin.ModelAdmin):
    list_display = (
        "received_at",
        "gateway",
        "type",
        "event_id",
        "order",
        "outcome",
        "needs_attention",
        "mismatch_display",
    )
    list_filter = ("needs_attention", "outcome", "gateway", "type")
    search_fields = ("event_id", "order__id")
    readonly_fields = (
        "gateway",
        "event_id",
        "type",
        "order",
        "outcome",
        "detail",
        "mismatch_display",
        "needs_attention",
        "received_at",
    )
    exclude = ("mismatch",)
    actions = ["mark_reviewed"]

    @admin.display(description="What differs")
    def mismatch_display(self, obj: PaymentEvent) -> str:
        return _mismatch_display(obj)

    @admin.action(
        description="Mark as reviewed (no longer needs attention)", permissions=["change"]
    )
    def mark_reviewed(self, request: HttpRequest, queryset: QuerySet[PaymentEvent]) -> None:
        count = services.payment_events_mark_reviewed(
            event_ids=list(queryset.values_list("pk", flat=True))
        )
        self.message_user(request, f"{count} event(s) marked as reviewed.", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class PaymentEventInline(admin.TabularInline):
    model = PaymentEvent
    fields = ("received_at", "type", "event_id", "outcome", "needs_attention", "what_differs")
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0
    ordering = ("-received_at",)
    verbose_name_plural = "Payment events"

    @admin.display(description="What differs")
    def what_differs(self, obj: PaymentEvent) -> str:
        return _mismatch_display(obj)


class NeedsAttentionFilter(admin.SimpleListFilter):
    title = "payment needs attention"
    parameter_name = "payment_attention"

    def lookups(self, request: HttpRequest, model_admin: object) -> list[tuple[str, str]]:
        return [("yes", "Needs attention"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        if self.value() == "yes":
            return queryset.filter(Exists(_flagged_events()))
        if self.value() == "no":
            return queryset.exclude(Exists(_flagged_events()))
        return queryset


def _flagged_events() -> QuerySet[PaymentEvent]:
    return PaymentEvent.objects.filter(order=OuterRef("pk"), needs_attention=True)


# The order page shows its payment events, and the order list flags orders with a payment
# event that needs attention. Registered here, so that orders need not know about payments.
admin.site.unregister(Order)


@admin.register(Order)
class OrderWithPaymentsAdmin(OrderAdmin):
    inlines = [*OrderAdmin.inlines, PaymentEventInline]

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        return [*super().get_list_display(request), "payment_attention_display"]

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        return [NeedsAttentionFilter, *super().get_list_filter(request)]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return super().get_queryset(request).annotate(payment_attention=Exists(_flagged_events()))

    @admin.display(description="Payment", ordering="payment_attention")
    def payment_attention_display(self, obj: Order) -> str:
        if getattr(obj, "payment_attention", False):
            return format_html('<strong class="errornote">{}</strong>', "Needs attention")
        return ""
