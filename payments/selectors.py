"""Reading payment events: which order an event is about, and whether it really matches it.

A signature proves an event came from the gateway, not that it is about this order's payment:
an event is applied only when its session, order id, amount and currency all agree with the
order (one rule, used by the webhook and by the success page's own look-up)."""

from __future__ import annotations

from typing import Any

from orders.models import Order
from payments.gateways import PaymentEventData


def event_order(event: PaymentEventData, *, gateway_name: str) -> Order | None:
    """The order named in the event's metadata; failing that, the order of its session (so a
    mismatching event still shows up on the order it concerns)."""
    if event.order_id is not None:
        order = Order.objects.filter(pk=event.order_id).first()
        if order is not None:
            return order
    if event.session_id:
        return Order.objects.filter(
            gateway=gateway_name, payment_session_id=event.session_id
        ).first()
    return None


def payment_mismatches(
    order: Order,
    *,
    gateway_name: str,
    order_id: int | None,
    amount_minor: int | None,
    currency: str,
    session_id: str | None = None,
    payment_reference: str = "",
) -> dict[str, dict[str, Any]]:
    """Each field where a payment differs from ``order``: ``{field: {"event", "order"}}``.
    ``session_id`` None means the payment carries no session (a payment intent event)."""
    found: dict[str, dict[str, Any]] = {}

    def differs(field: str, seen: Any, expected: Any) -> None:
        found[field] = {"event": seen, "order": expected}

    if gateway_name != order.gateway:
        differs("gateway", gateway_name, order.gateway)
    if order_id != order.pk:
        differs("order_id", order_id, order.pk)
    if session_id is not None and (
        not order.payment_session_id or session_id != order.payment_session_id
    ):
        differs("session_id", session_id, order.payment_session_id)
    if (
        payment_reference
        and order.payment_reference
        and payment_reference != order.payment_reference
    ):
        differs("payment_intent", payment_reference, order.payment_reference)
    if amount_minor != order.total_minor:
        differs("amount", amount_minor, order.total_minor)
    if currency.lower() != order.currency.lower():
        differs("currency", currency, order.currency)
    return found


def event_mismatches(
    event: PaymentEventData, order: Order, *, gateway_name: str
) -> dict[str, dict[str, Any]]:
    return payment_mismatches(
        order,
        gateway_name=gateway_name,
        order_id=event.order_id,
        amount_minor=event.amount_minor,
        currency=event.currency,
        session_id=event.session_id if event.type.startswith("checkout.session.") else None,
        payment_reference=event.payment_reference,
    )
