from django.contrib import admin
from django.http import HttpRequest

from checkout.models import Reservation, Voucher, VoucherRedemption


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


@admin.register(Voucher)
class VoucherAdmin(admin.ModelAdmin):
    """Discount codes. ``uses`` counts live redemptions (given back when an order is cancelled
    or expires), so it is shown, never edited."""

    list_display = (
        "code",
        "kind",
        "value",
        "min_spend_minor",
        "starts_at",
        "ends_at",
        "uses",
        "max_uses",
        "is_active",
    )
    list_filter = ("kind", "is_active")
    search_fields = ("code",)
    readonly_fields = ("uses", "created_at")


@admin.register(VoucherRedemption)
class VoucherRedemptionAdmin(admin.ModelAdmin):
    list_display = (
        "voucher",
        "order",
        "user",
        "discount_minor",
        "status",
        "created_at",
        "returned_at",
    )
    list_filter = ("status",)
    search_fields = ("voucher__code", "order__id", "user__email")
    list_select_related = ("voucher", "order", "user")
    readonly_fields = (
        "voucher",
        "order",
        "user",
        "discount_minor",
        "status",
        "created_at",
        "returned_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
