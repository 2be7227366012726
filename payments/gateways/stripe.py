"""Stripe Checkout through the official ``stripe`` SDK. Keys come from the environment."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

import stripe
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from payments.gateways.base import (
    GatewayError,
    PaymentEventData,
    PaymentSession,
    SessionState,
    parse_stripe_event,
)

if TYPE_CHECKING:
    from orders.models import Order

log = logging.getLogger(__name__)


def _client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise ImproperlyConfigured("PAYMENT_GATEWAY=stripe needs STRIPE_SECRET_KEY.")
    options: dict[str, Any] = {"max_network_retries": settings.STRIPE_MAX_NETWORK_RETRIES}
    if settings.STRIPE_API_BASE:
        options["base_addresses"] = {"api": settings.STRIPE_API_BASE}
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, **options)


def _metadata_order_id(metadata: Any) -> int | None:
    try:
        return int(metadata["order_id"])
    except (KeyError, TypeError, ValueError):
        return None


class StripeGateway:
    name = "stripe"

    def __init__(self) -> None:
        self.client = _client()

    def create_session(
        self,
        *,
        order: Order,
        success_url: str,
        cancel_url: str,
        expires_at: datetime,
        idempotency_key: str,
    ) -> PaymentSession:
        metadata = {"order_id": str(order.pk)}
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": _line_items(order),
            "success_url": success_url,
            "cancel_url": cancel_url,
            "expires_at": int(expires_at.timestamp()),
            "client_reference_id": str(order.pk),
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
        }
        if order.user and order.user.email:
            params["customer_email"] = order.user.email
        try:
            session = self.client.v1.checkout.sessions.create(
                params=params,  # type: ignore[arg-type]  # a plain dict of the documented shape
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            raise GatewayError(
                reason="Creating the checkout session failed.",
                provider_message=str(error.user_message or error),
            ) from None
        return PaymentSession(session.id, session.url or "")

    def retrieve_session(self, session_id: str) -> SessionState:
        try:
            session = self.client.v1.checkout.sessions.retrieve(session_id)
        except stripe.StripeError as error:
            raise GatewayError(
                reason="Could not look up the payment.", provider_message=str(error)
            ) from None
        payment_intent = session.payment_intent
        reference = (
            payment_intent if isinstance(payment_intent, str) else getattr(payment_intent, "id", "")
        )
        return SessionState(
            session.id,
            session.status or "",
            session.payment_status or "",
            _metadata_order_id(session.metadata),
            reference or "",
            amount_minor=session.amount_total,
            currency=session.currency or "",
        )

    def refund(self, *, order: Order, idempotency_key: str) -> str:
        if not order.payment_reference:
            raise GatewayError(reason="No payment to refund.", order_id=order.pk)
        try:
            refund = self.client.v1.refunds.create(
                params={"payment_intent": order.payment_reference},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            raise GatewayError(
                reason="The refund could not be started.", provider_message=str(error)
            ) from None
        return refund.id

    def expire_session(self, session_id: str) -> None:
        try:
            self.client.v1.checkout.sessions.expire(session_id)
        except stripe.StripeError as error:
            # Already complete or expired; the order's own state decides what happens next.
            log.info("Could not expire Stripe session %s: %s", session_id, error)

    def parse_event(self, payload: bytes, signature: str) -> PaymentEventData:
        return parse_stripe_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)


def _line_items(order: Order) -> list[dict[str, Any]]:
    """What Stripe shows and charges: the order's lines and its delivery fee; with a voucher
    discount, one line for the whole order, so Stripe's total is always the order's total."""

    def item(name: str, amount_minor: int, quantity: int = 1) -> dict[str, Any]:
        return {
            "quantity": quantity,
            "price_data": {
                "currency": order.currency.lower(),
                "unit_amount": amount_minor,
                "product_data": {"name": name},
            },
        }

    if order.discount_minor:
        return [item(f"Order {order.number} (voucher {order.voucher_code})", order.total_minor)]
    items = [
        item(line.product_name, line.unit_price_minor, line.quantity) for line in order.lines.all()
    ]
    if order.delivery_fee_minor:
        items.append(item(f"Delivery ({order.delivery_zone})", order.delivery_fee_minor))
    return items
