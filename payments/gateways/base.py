"""The payment gateway interface, and Stripe's event format (which the test gateway speaks too,
so both arrive through the same webhook code path)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from haat.errors import DomainError

if TYPE_CHECKING:
    from orders.models import Order


class GatewayError(DomainError):
    """The payment provider could not be reached or refused the request. ``reason`` (details)
    says what failed, for the logs; shoppers see the catalogue's message."""

    code = "payment_unavailable"
    http_status = 502

    def __str__(self) -> str:
        reason = self.details.get("reason")
        return f"{self.message} ({reason})" if reason else self.message


class InvalidSignature(DomainError):
    """A webhook whose signature is missing, wrong or too old (``reason``: which)."""

    code = "invalid_signature"
    http_status = 400


class MalformedEvent(DomainError):
    """A correctly signed webhook whose body is not an event Haat can read (not a JSON object,
    no id, no or odd type, ``data.object`` not an object, odd metadata or amounts): ``reason``."""

    code = "malformed_event"
    http_status = 400


@dataclass(frozen=True)
class PaymentSession:
    id: str
    url: str


@dataclass(frozen=True)
class SessionState:
    id: str
    status: str  # open | complete | expired
    payment_status: str  # paid | unpaid | no_payment_required
    order_id: int | None
    payment_reference: str = ""
    amount_minor: int | None = None  # amount_total, in minor units
    currency: str = ""


@dataclass(frozen=True)
class PaymentEventData:
    id: str
    type: str
    order_id: int | None  # from the object's metadata
    session_id: str = ""  # checkout.session.* events: the session's id
    payment_status: str = ""
    payment_reference: str = ""  # the payment intent
    amount_minor: int | None = None  # amount_total of a session, amount of a payment intent
    currency: str = ""
    # A failed payment intent's last_payment_error: the decline code and the card issuer's
    # message, kept with the order's event.
    failure_code: str = ""
    failure_message: str = ""


class PaymentGateway(Protocol):
    name: str

    def create_session(
        self,
        *,
        order: Order,
        success_url: str,
        cancel_url: str,
        expires_at: datetime,
        idempotency_key: str,
    ) -> PaymentSession: ...

    def retrieve_session(self, session_id: str) -> SessionState: ...

    def refund(self, *, order: Order, idempotency_key: str) -> str: ...

    def expire_session(self, session_id: str) -> None:
        """Close an open payment session so it can no longer be paid (best effort)."""
        ...

    def parse_event(self, payload: bytes, signature: str) -> PaymentEventData: ...


EVENT_TYPE = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)+")
ORDER_NUMBER = re.compile(r"[0-9]{1,18}")  # ASCII digits only: int() also takes "²", "٣"


def parse_stripe_event(payload: bytes, signature: str, secret: str) -> PaymentEventData:
    """Verify a Stripe-signed event on its raw body and pull out what Haat needs.

    Raises ``InvalidSignature`` when the signature does not hold, ``MalformedEvent`` when it
    does but the body is not a readable event."""
    if not secret:
        raise InvalidSignature(reason="No webhook secret is configured.")
    # Imported when first needed: the SDK costs a fifth of a second at every process start.
    import stripe

    try:
        stripe.WebhookSignature.verify_header(
            payload, signature or "", secret, stripe.Webhook.DEFAULT_TOLERANCE
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as error:
        raise InvalidSignature(reason=str(error)) from None
    try:
        event = json.loads(payload)
    except ValueError:
        raise MalformedEvent(reason="The body is not JSON.") from None
    return event_data(event)


def event_data(event: Any) -> PaymentEventData:
    """The fields Haat uses from a decoded Stripe event, each checked for shape."""
    if not isinstance(event, dict):
        raise MalformedEvent(reason="The event is not a JSON object.")
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > 255:
        raise MalformedEvent(reason="The event has no id.")
    kind = event.get("type")
    if not isinstance(kind, str) or len(kind) > 100 or not EVENT_TYPE.fullmatch(kind):
        raise MalformedEvent(reason="The event has no valid type.")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise MalformedEvent(reason="The event's data.object is not an object.")
    metadata = obj.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise MalformedEvent(reason="The object's metadata is not an object.")
    raw_order_id = metadata.get("order_id")
    if raw_order_id is not None and not (
        isinstance(raw_order_id, str) and ORDER_NUMBER.fullmatch(raw_order_id)
    ):
        raise MalformedEvent(reason="The metadata's order_id is not an order number.")
    order_id = int(raw_order_id) if raw_order_id is not None else None
    if kind.startswith("checkout.session."):
        payment_intent = obj.get("payment_intent")
        if isinstance(payment_intent, dict):  # expanded
            payment_intent = payment_intent.get("id")
        return PaymentEventData(
            id=event_id,
            type=kind,
            order_id=order_id,
            session_id=_text(obj.get("id"), "id", required=True),
            payment_status=_text(obj.get("payment_status"), "payment_status"),
            payment_reference=_text(payment_intent, "payment_intent"),
            amount_minor=_amount(obj.get("amount_total"), "amount_total"),
            currency=_text(obj.get("currency"), "currency"),
        )
    if kind.startswith("payment_intent."):
        return PaymentEventData(
            id=event_id,
            type=kind,
            order_id=order_id,
            payment_reference=_text(obj.get("id"), "id", required=True),
            amount_minor=_amount(obj.get("amount"), "amount"),
            currency=_text(obj.get("currency"), "currency"),
            **_failure(obj.get("last_payment_error")),
        )
    return PaymentEventData(id=event_id, type=kind, order_id=order_id)


def _failure(error: Any) -> dict[str, str]:
    """What a payment intent's ``last_payment_error`` says, if it says it in text (only kept
    for the record, so an odd shape is dropped rather than refused)."""
    if not isinstance(error, dict):
        return {}
    code = error.get("decline_code") or error.get("code")
    message = error.get("message")
    return {
        "failure_code": code[:100] if isinstance(code, str) else "",
        "failure_message": message[:255] if isinstance(message, str) else "",
    }


def _text(value: Any, field: str, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value) or len(value) > 255:
        raise MalformedEvent(reason=f"The object's {field} is not a string.")
    return value


def _amount(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedEvent(reason=f"The object's {field} is not an amount in minor units.")
    return value
