from django.contrib import admin
from django.http import HttpRequest

from catalog.money import format_money
from orders.models import Order, OrderLine, OrderMail


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


@admin.register(Order)
# payments/admin.py extends this page with the order's payment events ("needs attention").
class OrderAdmin(admin.ModelAdmin):
    list_display = (
        "number_display",
        "user",
        "status",
        "total_display",
        "gateway",
        "created_at",
        "paid_at",
    )
    list_filter = ("status", "gateway", "source")
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
                    "total_display",
                    "created_at",
                    "paid_at",
                )
            },
        ),
        (
            "Delivery",
            {"fields": ("delivery_name", "delivery_phone", "delivery_address", "delivery_city")},
        ),
        (
            "Payment",
            {
                "fields": (
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
        "total_display",
        "created_at",
        "paid_at",
        "delivery_name",
        "delivery_phone",
        "delivery_address",
        "delivery_city",
        "gateway",
        "payment_session_id",
        "payment_url",
        "payment_reference",
        "refund_reference",
    )
    inlines = [OrderLineInline, OrderMailInline]
    date_hierarchy = "created_at"

    @admin.display(description="Order", ordering="id")
    def number_display(self, obj: Order) -> str:
        return obj.number

    @admin.display(description="Total", ordering="total_minor")
    def total_display(self, obj: Order) -> str:
        return format_money(obj.total_minor)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # orders come from checkout, with stock reserved
