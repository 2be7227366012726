"""Payment records: every event a gateway delivered (for exactly-once processing), and the
built-in test gateway's checkout sessions."""

from __future__ import annotations

from django.db import models


class PaymentEvent(models.Model):
    gateway = models.CharField(max_length=20)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    order = models.ForeignKey(
        "orders.Order", on_delete=models.SET_NULL, null=True, related_name="payment_events"
    )
    outcome = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "event_id"], name="payment_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.type} {self.event_id}"


class TestPaymentSession(models.Model):
    """A checkout session of the built-in test gateway (a stand-in for Stripe Checkout)."""

    __test__ = False  # not a pytest test class, whatever its name

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETE = "complete", "Complete"
        EXPIRED = "expired", "Expired"

    session_id = models.CharField(max_length=64, unique=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="+")
    amount_minor = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    payment_status = models.CharField(max_length=10, default="unpaid")
    payment_reference = models.CharField(max_length=64, blank=True)
    refund_reference = models.CharField(max_length=64, blank=True)
    success_url = models.CharField(max_length=2000)
    cancel_url = models.CharField(max_length=2000)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    last_error = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return self.session_id
