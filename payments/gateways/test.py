"""The built-in test gateway: a hosted payment page inside Haat that behaves like Stripe Checkout
with Stripe's test cards, and reports results as Stripe-format events signed with a local secret.
Zero set-up; never takes real money."""

from __future__ import annotations

import json
import secrets
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_noop

from haat.http import reverse_kept
from haat.store.sql import insert, update
from payments.gateways.base import (
    GatewayError,
    PaymentEventData,
    PaymentSession,
    SessionState,
    parse_stripe_event,
)
from payments.models import TestPaymentSession

if TYPE_CHECKING:
    from orders.models import Order

# Stripe's documented test cards, and what they do here: (result, decline code, message). The
# messages are kept in English (the session's last_error) and translated where they are shown.
CARD_OUTCOMES = {
    "4242424242424242": ("paid", "", ""),
    "4000000000000002": ("declined", "generic_decline", gettext_noop("Your card was declined.")),
    "4000000000009995": (
        "declined",
        "insufficient_funds",
        gettext_noop("Your card has insufficient funds."),
    ),
}
NOT_A_TEST_CARD = gettext_noop(
    "Use a test card: 4242 4242 4242 4242 (success), 4000 0000 0000 0002 (declined)."
)


# Stands in for a session id (URL-safe characters only) in the payment page's kept path.
_SESSION_STAND_IN = "SESSION-ID"


def _pay_page(session_id: str) -> str:
    return reverse_kept("payments:test_pay", _SESSION_STAND_IN).replace(
        _SESSION_STAND_IN, session_id
    )


class TestGateway:
    __test__ = False  # not a pytest test class, whatever its name
    name = "test"

    def create_session(
        self,
        *,
        order: Order,
        success_url: str,
        cancel_url: str,
        expires_at: datetime,
        idempotency_key: str,
    ) -> PaymentSession:
        # The idempotency key makes a repeated call answer with the same session, like Stripe:
        # a second insert of it writes nothing (and breaks no transaction it runs in).
        session = TestPaymentSession(
            session_id=f"cs_test_{secrets.token_urlsafe(18)}",
            idempotency_key=idempotency_key,
            order=order,
            amount_minor=order.total_minor,
            currency=order.currency,
            success_url=success_url,
            cancel_url=cancel_url,
            expires_at=expires_at,
        )
        if not insert(session, ignore_conflict_on="idempotency_key"):
            session = TestPaymentSession.objects.get(idempotency_key=idempotency_key)
        return PaymentSession(session.session_id, _pay_page(session.session_id))

    def retrieve_session(self, session_id: str) -> SessionState:
        session = TestPaymentSession.objects.filter(session_id=session_id).first()
        if session is None:
            raise GatewayError(reason="Unknown payment session.", session_id=session_id)
        return SessionState(
            session.session_id,
            session.status,
            session.payment_status,
            session.order_id,
            session.payment_reference,
            amount_minor=session.amount_minor,
            currency=session.currency.lower(),
        )

    def refund(self, *, order: Order, idempotency_key: str) -> str:
        # Locked, so that two refund attempts at once end in one refund, as with Stripe's
        # idempotency key.
        with transaction.atomic():
            session = (
                TestPaymentSession.objects.select_for_update()
                .filter(order=order, payment_status="paid")
                .first()
            )
            if session is None:
                raise GatewayError(reason="Nothing was paid for this order.", order_id=order.pk)
            if not session.refund_reference:
                session.refund_reference = f"re_test_{secrets.token_urlsafe(12)}"
                session.save(update_fields=["refund_reference"])
            return session.refund_reference

    def expire_session(self, session_id: str) -> None:
        update(
            TestPaymentSession,
            {"status": TestPaymentSession.Status.EXPIRED},
            session_id=session_id,
            status=TestPaymentSession.Status.OPEN,
        )

    def parse_event(self, payload: bytes, signature: str) -> PaymentEventData:
        return parse_stripe_event(payload, signature, settings.TEST_GATEWAY_WEBHOOK_SECRET)


def signed_event(event_type: str, obj: dict[str, Any]) -> tuple[bytes, str]:
    """A Stripe-format event and its Stripe-Signature header, signed with the local secret."""
    event = {
        "id": f"evt_test_{secrets.token_urlsafe(12)}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": obj},
    }
    payload = json.dumps(event).encode()
    import stripe  # when first needed (payments/gateways/base.py says why)

    header = stripe.WebhookSignature.generate_signature_header(
        payload.decode(), settings.TEST_GATEWAY_WEBHOOK_SECRET
    )
    return payload, header


def session_object(session: TestPaymentSession) -> dict[str, Any]:
    return {
        "id": session.session_id,
        "object": "checkout.session",
        "status": session.status,
        "payment_status": session.payment_status,
        "payment_intent": session.payment_reference or None,
        "amount_total": session.amount_minor,
        "currency": session.currency.lower(),
        "metadata": {"order_id": str(session.order_id)},
    }
