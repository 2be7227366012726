"""The payment gateway interface, and Stripe's event format (which the test gateway speaks too,
so both arrive through the same webhook code path)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import stripe

from haat.errors import DomainError

if TYPE_CHECKING:
    from orders.models import Order


class GatewayError(DomainError):
    """The payment provider could not be reached or refused the request."""

    code = "payment_unavailable"
    http_status = 502


class InvalidSignature(Exception):
    """A webhook whose signature is missing, wrong or too old."""


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


@dataclass(frozen=True)
class PaymentEventData:
    id: str
    type: str
    order_id: int | None
    session_id: str = ""
    payment_status: str = ""
    payment_reference: str = ""


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


def _order_id(metadata: Any) -> int | None:
    value = (metadata or {}).get("order_id")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def parse_stripe_event(payload: bytes, signature: str, secret: str) -> PaymentEventData:
    """Verify a Stripe-signed event on its raw body and pull out what Haat needs."""
    if not secret:
        raise InvalidSignature("No webhook secret is configured.")
    try:
        stripe.Webhook.construct_event(payload, signature or "", secret)
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError) as error:
        raise InvalidSignature(str(error)) from None
    obj = (event.get("data") or {}).get("object") or {}
    kind = str(event.get("type", ""))
    if kind.startswith("checkout.session."):
        return PaymentEventData(
            id=str(event.get("id", "")),
            type=kind,
            order_id=_order_id(obj.get("metadata")),
            session_id=str(obj.get("id", "")),
            payment_status=str(obj.get("payment_status", "")),
            payment_reference=str(obj.get("payment_intent") or ""),
        )
    return PaymentEventData(
        id=str(event.get("id", "")),
        type=kind,
        order_id=_order_id(obj.get("metadata")),
        payment_reference=str(obj.get("id", "")) if kind.startswith("payment_intent.") else "",
    )
