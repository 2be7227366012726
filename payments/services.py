"""Payment events in, and the test gateway's card payments.

``webhook_receive`` is the one code path for every gateway: verify the signature on the raw
body, record the event id (a repeat is answered and ignored), and apply the outcome to the
order. The test gateway's hosted page produces Stripe-format signed events and feeds them here."""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from checkout.services import order_cancel, order_fulfil, order_settle
from orders.models import Order
from payments.gateways import PaymentEventData, get_gateway
from payments.gateways.test import CARD_OUTCOMES, session_object, signed_event
from payments.models import PaymentEvent, TestPaymentSession

SESSION_EXPIRED = (
    "This payment session expired before you paid, so the items were no longer held for you. "
    "Nothing was charged; please check out again."
)
PAID_EVENTS = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
FAILED_EVENTS = {
    "checkout.session.expired",
    "checkout.session.async_payment_failed",
    "payment_intent.payment_failed",
}


def webhook_receive(*, gateway_name: str, payload: bytes, signature: str) -> str:
    """Verify and apply one event. Raises ``InvalidSignature`` (and changes nothing) when the
    signature is missing, wrong or stale. Returns what happened, for the log and the tests."""
    event = get_gateway(gateway_name).parse_event(payload, signature)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = PaymentEvent.objects.create(
                    gateway=gateway_name, event_id=event.id, type=event.type, order_id=None
                )
        except IntegrityError:
            return "duplicate"
        outcome = _apply(event)
        record.order_id = event.order_id if _order_exists(event.order_id) else None
        record.outcome = outcome[:255]
        record.save(update_fields=["order", "outcome"])
    if event.order_id and outcome.startswith("fulfilled"):
        order_settle(order_id=event.order_id)
    return outcome


def _order_exists(order_id: int | None) -> bool:
    return order_id is not None and Order.objects.filter(pk=order_id).exists()


def _apply(event: PaymentEventData) -> str:
    if not _order_exists(event.order_id):
        return "ignored: no such order"
    assert event.order_id is not None
    if event.type in PAID_EVENTS:
        if event.type == "checkout.session.completed" and event.payment_status != "paid":
            return "waiting: payment not yet settled"
        order = order_fulfil(order_id=event.order_id, payment_reference=event.payment_reference)
        return f"fulfilled: order {order.status}"
    if event.type in FAILED_EVENTS:
        reason = {
            "checkout.session.expired": "The payment session expired.",
            "checkout.session.async_payment_failed": "The payment failed.",
            "payment_intent.payment_failed": "The payment was declined.",
        }[event.type]
        order = order_cancel(order_id=event.order_id, reason=reason)
        return f"released: order {order.status}"
    return "ignored: event type"


def pay_with_test_card(*, session_id: str, card_number: str) -> tuple[bool, str]:
    """Pay a test-gateway session with one of Stripe's test cards. Returns (paid, message).

    The outcome reaches the order the way Stripe's would: as a signed event through
    ``webhook_receive``."""
    digits = "".join(ch for ch in card_number if ch.isdigit())
    outcome = CARD_OUTCOMES.get(digits)
    if outcome is None:
        return (
            False,
            "Use a test card: 4242 4242 4242 4242 (success), 4000 0000 0000 0002 (declined).",
        )
    with transaction.atomic():
        session = TestPaymentSession.objects.select_for_update().get(session_id=session_id)
        if session.status != TestPaymentSession.Status.OPEN:
            return session.payment_status == "paid", "This payment session is closed."
        result, message = outcome
        if session.expires_at <= timezone.now():
            # Stripe expires a session at its expires_at: past it, no payment is taken.
            result, message = "expired", SESSION_EXPIRED
        if result == "paid":
            session.status = TestPaymentSession.Status.COMPLETE
            session.payment_status = "paid"
            session.payment_reference = f"pi_test_{secrets.token_urlsafe(12)}"
            session.last_error = ""
            session.save()
            payload, header = signed_event("checkout.session.completed", session_object(session))
        elif result == "expired":
            session.status = TestPaymentSession.Status.EXPIRED
            session.save(update_fields=["status"])
            payload, header = signed_event("checkout.session.expired", session_object(session))
        else:
            session.last_error = message
            session.save(update_fields=["last_error"])
            payload, header = signed_event(
                "payment_intent.payment_failed",
                {
                    "id": f"pi_test_{secrets.token_urlsafe(12)}",
                    "object": "payment_intent",
                    "status": "requires_payment_method",
                    "last_payment_error": {"message": message},
                    "metadata": {"order_id": str(session.order_id)},
                },
            )
    webhook_receive(gateway_name="test", payload=payload, signature=header)
    return result == "paid", message or "Payment received."


def expire_test_session(*, session_id: str) -> None:
    """Close an open test session, as Stripe does at ``expires_at``, and send the event."""
    with transaction.atomic():
        session = TestPaymentSession.objects.select_for_update().get(session_id=session_id)
        if session.status != TestPaymentSession.Status.OPEN:
            return
        session.status = TestPaymentSession.Status.EXPIRED
        session.save(update_fields=["status"])
        payload, header = signed_event("checkout.session.expired", session_object(session))
    webhook_receive(gateway_name="test", payload=payload, signature=header)
