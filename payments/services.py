"""Payment events in, and the test gateway's card payments.

``webhook_receive`` is the one code path for every gateway: verify the signature on the raw
body, record the event id (a repeat is answered and ignored), and apply the outcome to the
order. The test gateway's hosted page produces Stripe-format signed events and feeds them here."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from checkout.services import order_cancel, order_fulfil, order_payment_declined, order_settle
from haat import metrics
from orders.models import Order, OrderEvent
from orders.services import OrderActor
from payments.gateways import PaymentEventData, get_gateway
from payments.gateways.test import CARD_OUTCOMES, NOT_A_TEST_CARD, session_object, signed_event
from payments.models import EventOutcome, PaymentEvent, TestPaymentSession
from payments.selectors import event_mismatches, event_order

log = logging.getLogger(__name__)

SESSION_EXPIRED = (
    "This payment session expired before you paid, so the items were no longer held for you. "
    "Nothing was charged; please check out again."
)
PAID_EVENTS = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
# The payment can no longer happen: the session expired, or a delayed payment method failed
# after the session completed.
FAILED_EVENTS = {
    "checkout.session.expired",
    "checkout.session.async_payment_failed",
}
# One card was declined. Stripe Checkout keeps the session open for another card and sends
# checkout.session.expired only at its expires_at; the order keeps waiting, its stock held.
DECLINED_EVENTS = {"payment_intent.payment_failed"}


REASONS = {
    "checkout.session.expired": OrderEvent.Reason.SESSION_EXPIRED,
    "checkout.session.async_payment_failed": OrderEvent.Reason.PAYMENT_FAILED,
}


def webhook_receive(*, gateway_name: str, payload: bytes, signature: str) -> EventOutcome:
    """Verify and apply one event. Raises ``InvalidSignature`` (signature missing, wrong or
    stale) or ``MalformedEvent`` (signed, but not a readable event), changing nothing.

    Each event is recorded once by its id; a repeat is answered ``duplicate`` and ignored. An
    event that does not match its order (session, order id, amount, currency) is recorded
    as ``mismatch`` for staff, and neither fulfils nor cancels anything."""
    event = get_gateway(gateway_name).parse_event(payload, signature)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = PaymentEvent.objects.create(
                    gateway=gateway_name, event_id=event.id, type=event.type, order_id=None
                )
        except IntegrityError:
            return EventOutcome.DUPLICATE
        order = event_order(event, gateway_name=gateway_name)
        by = OrderActor.webhook(gateway=gateway_name, event_id=event.id, event_type=event.type)
        outcome, detail, mismatch = _apply(event, order, gateway_name=gateway_name, by=by)
        record.order = order
        record.outcome, record.detail, record.mismatch = outcome, detail[:255], mismatch
        record.needs_attention = bool(mismatch)
        record.save(update_fields=["order", "outcome", "detail", "mismatch", "needs_attention"])
    if mismatch:
        log.warning(
            "Payment event %s %s does not match order %s: %s",
            gateway_name,
            event.id,
            order.pk if order else None,
            mismatch,
        )
    if order is not None and outcome == EventOutcome.FULFILLED:
        order_settle(order_id=order.pk, by=by)
    return outcome


def _apply(
    event: PaymentEventData, order: Order | None, *, gateway_name: str, by: OrderActor
) -> tuple[EventOutcome, str, dict[str, Any]]:
    if event.type not in PAID_EVENTS | FAILED_EVENTS | DECLINED_EVENTS:
        return EventOutcome.IGNORED, "", {}
    if order is None:
        return EventOutcome.NO_ORDER, f"No order {event.order_id}.", {}
    mismatch = event_mismatches(event, order, gateway_name=gateway_name)
    if mismatch:
        metrics.count(metrics.PAYMENTS, outcome="mismatched")
        return EventOutcome.MISMATCH, "Differs in " + ", ".join(sorted(mismatch)) + ".", mismatch
    if event.type in PAID_EVENTS:
        if event.type == "checkout.session.completed" and event.payment_status != "paid":
            return EventOutcome.WAITING, "The payment is not settled yet.", {}
        order = order_fulfil(order_id=order.pk, by=by, payment_reference=event.payment_reference)
        return EventOutcome.FULFILLED, f"Order {order.get_status_display().lower()}.", {}
    if event.type in DECLINED_EVENTS:
        order = order_payment_declined(
            order_id=order.pk,
            by=by,
            data={
                "payment_intent": event.payment_reference,
                "decline_code": event.failure_code,
                "decline_message": event.failure_message,
            },
        )
        metrics.count(metrics.PAYMENTS, outcome="failed")
        return EventOutcome.DECLINED, f"Order {order.get_status_display().lower()}.", {}
    order = order_cancel(order_id=order.pk, reason=REASONS[event.type], by=by)
    metrics.count(metrics.PAYMENTS, outcome="expired" if "expired" in event.type else "failed")
    return EventOutcome.RELEASED, f"Order {order.get_status_display().lower()}.", {}


def payment_events_mark_reviewed(*, event_ids: list[int]) -> int:
    """Staff looked at these events: they no longer need attention. Returns how many."""
    return PaymentEvent.objects.filter(pk__in=event_ids, needs_attention=True).update(
        needs_attention=False
    )


def pay_with_test_card(*, session_id: str, card_number: str) -> tuple[bool, str]:
    """Pay a test-gateway session with one of Stripe's test cards. Returns (paid, message).

    The outcome reaches the order the way Stripe's would: as a signed event through
    ``webhook_receive``."""
    digits = "".join(ch for ch in card_number if ch.isdigit())
    outcome = CARD_OUTCOMES.get(digits)
    with transaction.atomic():
        session = TestPaymentSession.objects.select_for_update().get(session_id=session_id)
        if session.status != TestPaymentSession.Status.OPEN:
            return session.payment_status == "paid", "This payment session is closed."
        if outcome is None:  # refused on the page, as Stripe's form refuses a mistyped number
            session.last_error = NOT_A_TEST_CARD
            session.save(update_fields=["last_error"])
            return False, NOT_A_TEST_CARD
        result, decline_code, message = outcome
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
                    "amount": session.amount_minor,
                    "currency": session.currency.lower(),
                    "status": "requires_payment_method",
                    "last_payment_error": {
                        "type": "card_error",
                        "code": "card_declined",
                        "decline_code": decline_code,
                        "message": message,
                    },
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
