"""Reservations: units held for a pending order until it is paid, released or expires."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Reservation(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Holding stock"
        RELEASED = "released", "Released"
        CONVERTED = "converted", "Became a sale"

    order = models.OneToOneField(
        "orders.Order", on_delete=models.CASCADE, related_name="reservation"
    )
    # The shopper holding the stock (the order's user): the database allows one active
    # reservation per shopper, so no race of concurrent checkouts can hoard stock.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reservations",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "expires_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="active"),
                name="reservation_one_active_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"Reservation for order {self.order_id} ({self.status})"


class Voucher(models.Model):
    """A discount code: a percentage or a fixed amount off the items, from a minimum spend,
    between a start and an end, for at most ``max_uses`` orders in all and
    ``max_uses_per_shopper`` per shopper. ``uses`` counts live redemptions: it goes up in the
    checkout's transaction (under this row's lock) and down when the order is cancelled, its
    reservation expires or a cash-on-delivery parcel comes back."""

    class Kind(models.TextChoices):
        PERCENT = "percent", "Percentage off the items"
        FIXED = "fixed", "Fixed amount off the items"

    code = models.CharField(max_length=40, unique=True, help_text="Letters, digits, - and _.")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # Percent (1–100) for PERCENT; paisa for FIXED (৳ 100 = 10000).
    value = models.PositiveBigIntegerField(help_text="Percent, or paisa off (৳ 100 = 10000).")
    min_spend_minor = models.PositiveBigIntegerField("minimum spend (paisa)", default=0)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty: no end.")
    max_uses = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: no limit.")
    max_uses_per_shopper = models.PositiveIntegerField(
        null=True, blank=True, default=1, help_text="Empty: no limit."
    )
    uses = models.PositiveIntegerField(default=0, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(uses__lte=models.F("max_uses")),
                name="voucher_uses_within_max",
            ),
            models.CheckConstraint(
                condition=~Q(kind="percent") | Q(value__gte=1, value__lte=100),
                name="voucher_percent_1_to_100",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def discount_for(self, items_minor: int) -> int:
        """What this voucher takes off items worth ``items_minor`` (never more than them);
        a percentage is rounded down to whole paisa."""
        if self.kind == self.Kind.PERCENT:
            return items_minor * self.value // 100
        return min(self.value, items_minor)


class VoucherRedemption(models.Model):
    """One order's use of a voucher; given back (``returned``) when the order ends unsold."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Used"
        RETURNED = "returned", "Given back"

    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="redemptions")
    order = models.OneToOneField(
        "orders.Order", on_delete=models.CASCADE, related_name="voucher_redemption"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    discount_minor = models.PositiveBigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["voucher", "user", "status"])]

    def __str__(self) -> str:
        return f"{self.voucher_id} on order {self.order_id} ({self.status})"
