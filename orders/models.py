"""Orders: what was bought, at which server-side prices, and where payment stands.

An order's status only changes inside ``checkout.services`` (``orders.services`` sends the order's
mails), each change one transaction holding the order's row lock, so a webhook and the success
page racing each other fulfil it once."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting payment"
        PAID = "paid", "Paid"
        CANCELLED = "cancelled", "Cancelled"
        REFUND_DUE = "refund_due", "Refund in progress"
        REFUNDED = "refunded", "Refunded"

    class Source(models.TextChoices):
        CART = "cart", "Cart"
        BUY_NOW = "buy_now", "Buy Now"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="orders"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    status_reason = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    currency = models.CharField(max_length=3)
    total_minor = models.PositiveBigIntegerField()
    gateway = models.CharField(max_length=20)
    payment_session_id = models.CharField(max_length=255, blank=True, db_index=True)
    payment_url = models.CharField(max_length=2000, blank=True)
    payment_reference = models.CharField(max_length=255, blank=True)
    refund_reference = models.CharField(max_length=255, blank=True)
    # Where the parcel goes (asked on the checkout page; optional for API clients).
    delivery_name = models.CharField("recipient", max_length=150, blank=True)
    delivery_phone = models.CharField("phone", max_length=32, blank=True)
    delivery_address = models.CharField("address", max_length=500, blank=True)
    delivery_city = models.CharField("city / area", max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # Set once the gateway confirmed that the payment session can take no more money, so the
    # reconciliation stops asking about this (cancelled) order.
    payment_session_closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "payment_session_id"],
                condition=~Q(payment_session_id=""),
                name="order_unique_payment_session",
            )
        ]

    def __str__(self) -> str:
        return f"Order {self.number}"

    def get_absolute_url(self) -> str:
        return reverse("orders:detail", kwargs={"order_id": self.pk})

    @property
    def number(self) -> str:
        return f"HT-{self.pk:06d}"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # What was bought, as it was: kept even if the product changes or disappears.
    product_ref = models.PositiveBigIntegerField()
    product_name = models.CharField(max_length=200)
    product_slug = models.CharField(max_length=220)
    unit_price_minor = models.PositiveBigIntegerField()
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="order_line_quantity_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_name}"

    @property
    def line_total_minor(self) -> int:
        return self.unit_price_minor * self.quantity


class OrderMail(models.Model):
    """One e-mail about an order, at most once per order and kind: the row is written in the
    transaction that changed the order, and a sender claims it (a conditional update) before
    sending, so two workers never both send it."""

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", "Order confirmation"
        REFUND = "refund", "Refund notice"

    class Status(models.TextChoices):
        PENDING = "pending", "To be sent"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Not sent (no address)"
        FAILED = "failed", "Gave up"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="mails")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    recipient = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # A sender's claim; one older than the lease is taken to be from a sender that died.
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "kind"], name="order_mail_once_per_kind")
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for order {self.order_id} ({self.status})"
