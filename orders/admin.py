import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from catalog.money import format_money
from checkout.services import orders_cod_delivered, orders_cod_returned, orders_staff_cancel
from orders.models import DeliveryZone, Order, OrderEvent, OrderLine, OrderMail


@admin.register(DeliveryZone)
class DeliveryZoneAdmin(admin.ModelAdmin):
    """Where the shop delivers and what it costs; the fee and free-from amount are in paisa
    (৳ 60 = 6000)."""

    list_display = (
        "name",
        "fee_display",
        "free_from_display",
        "is_default",
        "is_active",
        "position",
    )
    list_editable = ("is_active", "position")
    fields = (
        "name",
        "fee_minor",
        "free_from_minor",
        "cities",
        "is_default",
        "is_active",
        "position",
    )

    @admin.display(description="Fee", ordering="fee_minor")
    def fee_display(self, obj: DeliveryZone) -> str:
        return format_money(obj.fee_minor)

    @admin.display(description="Free from", ordering="free_from_minor")
    def free_from_display(self, obj: DeliveryZone) -> str:
        return "never" if obj.free_from_minor is None else format_money(obj.free_from_minor)


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    fields = ("product_name", "product_ref", "unit_price", "quantity", "line_total")
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0

    @admin.display(description="Unit price")
    def unit_price(self, obj: OrderLine) -> str:
        return format_money(obj.unit_price_minor) if obj.pk else ""

    @admin.display(description="Line total")
    def line_total(self, obj: OrderLine) -> str:
        return format_money(obj.line_total_minor) if obj.pk else ""


class OrderMailInline(admin.TabularInline):
    model = OrderMail
    fields = ("kind", "status", "recipient", "attempts", "sent_at", "last_error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0


class OrderEventInline(admin.TabularInline):
    """The order's history, oldest first; nobody edits or deletes it."""

    model = OrderEvent
    fields = (
        "created_at",
        "actor_kind",
        "actor",
        "from_status",
        "to_status",
        "message",
        "details",
        "visible_to_shopper",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0
    verbose_name_plural = "History"

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderEvent]:
        return super().get_queryset(request).select_related("actor")

    @admin.display(description="What happened")
    def message(self, obj: OrderEvent) -> str:
        return obj.message

    @admin.display(description="Details")
    def details(self, obj: OrderEvent) -> str:
        return json.dumps(obj.data, sort_keys=True) if obj.data else "—"


@admin.register(Order)
# payments/admin.py extends this page with the order's payment events ("needs attention").
class OrderAdmin(admin.ModelAdmin):
    list_display = (
        "number_display",
        "user",
        "status",
        "total_display",
        "payment_method",
        "gateway",
        "created_at",
        "paid_at",
    )
    list_filter = ("status", "payment_method", "gateway", "source")
    search_fields = ("id", "user__email", "payment_session_id", "payment_reference")
    list_select_related = ("user",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "user",
                    "status",
                    "status_reason",
                    "source",
                    "amounts_display",
                    "total_display",
                    "created_at",
                    "paid_at",
                )
            },
        ),
        (
            "Delivery",
            {
                "fields": (
                    "delivery_zone",
                    "delivery_name",
                    "delivery_phone",
                    "delivery_address",
                    "delivery_city",
                )
            },
        ),
        (
            "Payment",
            {
                "fields": (
                    "payment_method",
                    "gateway",
                    "payment_session_id",
                    "payment_url",
                    "payment_reference",
                    "refund_reference",
                )
            },
        ),
    )
    readonly_fields = (
        "user",
        "status",
        "status_reason",
        "source",
        "amounts_display",
        "total_display",
        "created_at",
        "paid_at",
        "delivery_zone",
        "delivery_name",
        "delivery_phone",
        "delivery_address",
        "delivery_city",
        "gateway",
        "payment_session_id",
        "payment_url",
        "payment_reference",
        "refund_reference",
        "payment_method",
    )
    inlines = [OrderLineInline, OrderEventInline, OrderMailInline]
    date_hierarchy = "created_at"
    actions = ["cancel_unpaid", "cod_delivered", "cod_returned"]

    @admin.display(description="Order", ordering="id")
    def number_display(self, obj: Order) -> str:
        return obj.number

    @admin.display(description="Items − voucher + delivery")
    def amounts_display(self, obj: Order) -> str:
        voucher = f" ({obj.voucher_code})" if obj.voucher_code else ""
        return (
            f"{format_money(obj.subtotal_minor)} − {format_money(obj.discount_minor)}{voucher}"
            f" + {format_money(obj.delivery_fee_minor)}"
        )

    @admin.display(description="Total", ordering="total_minor")
    def total_display(self, obj: Order) -> str:
        return format_money(obj.total_minor)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # orders come from checkout, with stock reserved

    def _staff_id(self, request: HttpRequest) -> int:
        if request.user.pk is None:  # the admin lets only signed-in staff in; never unattributed
            raise PermissionDenied
        return request.user.pk

    def _report(self, request: HttpRequest, done: int, selected: int, what: str) -> None:
        self.message_user(request, f"{done} order(s) {what}.", messages.SUCCESS)
        if done < selected:
            self.message_user(
                request,
                f"{selected - done} order(s) left as they were: not awaiting cash on delivery.",
                messages.WARNING,
            )

    @admin.action(description="Cash on delivery: mark delivered and paid", permissions=["change"])
    def cod_delivered(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        selected = list(queryset.values_list("pk", flat=True))
        done = orders_cod_delivered(order_ids=selected, staff_id=self._staff_id(request))
        self._report(request, done, len(selected), "marked delivered and paid")

    @admin.action(
        description="Cash on delivery: mark returned (items go back in stock)",
        permissions=["change"],
    )
    def cod_returned(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        selected = list(queryset.values_list("pk", flat=True))
        done = orders_cod_returned(order_ids=selected, staff_id=self._staff_id(request))
        self._report(request, done, len(selected), "marked returned")

    @admin.action(
        description="Cancel selected unpaid orders (held items go back on sale)",
        permissions=["change"],
    )
    def cancel_unpaid(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        staff_id = request.user.pk
        if staff_id is None:  # the admin lets only signed-in staff in; never unattributed
            raise PermissionDenied
        selected = list(queryset.values_list("pk", flat=True))
        cancelled = orders_staff_cancel(order_ids=selected, staff_id=staff_id)
        self.message_user(request, f"{cancelled} order(s) cancelled.", messages.SUCCESS)
        if cancelled < len(selected):
            self.message_user(
                request,
                f"{len(selected) - cancelled} order(s) left as they were: not awaiting payment "
                "or delivery.",
                messages.WARNING,
            )
