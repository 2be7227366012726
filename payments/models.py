"""Payment records: every event a gateway delivered (for exactly-once processing), and the
built-in test gateway's checkout sessions."""

from __future__ import annotations

from django.db import models


class EventOutcome(models.TextChoices):
    """What a verified payment event did."""

    FULFILLED = "fulfilled", "Payment applied to the order"
    WAITING = "waiting", "Payment not settled yet"
    RELEASED = "released", "Failure applied: reservation released"
    # A card was declined: the payment session stays open for another card (as Stripe
    # Checkout's does), so the order keeps waiting and its stock stays held.
    DECLINED = "declined", "Declined: the order still waits for payment"
    MISMATCH = "mismatch", "Does not match its order: not applied"
    NO_ORDER = "no_order", "No such order"
    IGNORED = "ignored", "Event type not used"
    DUPLICATE = "duplicate", "Already received"  # answered, never stored twice


class PaymentEvent(models.Model):
    gateway = models.CharField(max_length=20)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    order = models.ForeignKey(
        "orders.Order", on_delete=models.SET_NULL, null=True, related_name="payment_events"
    )
    outcome = models.CharField(max_length=20, choices=EventOutcome.choices, blank=True)
    detail = models.CharField(max_length=255, blank=True)
    # On a mismatch, each field that differs: {"amount": {"event": 100, "order": 558900}, ...}
    mismatch = models.JSONField(default=dict, blank=True)
    # Staff should look at it (a mismatch); cleared when they mark it reviewed.
    needs_attention = models.BooleanField(default=False)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(
                fields=["order"],
                condition=models.Q(needs_attention=True),
                name="payment_event_attention",
            )
        ]
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
