"""/api/orders: the shopper's own orders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Path, Router, Schema

from haat.errors import OrderNotFound
from haat.schemas import (
    INVALID_REQUEST,
    READ,
    Money,
    PathOrderId,
    answers,
    money,
    refusal,
    shopper_id,
)
from orders import selectors
from orders.models import Order

router = Router(tags=["orders"])


class OrderLineOut(Schema):
    product_id: int
    name: str
    unit_price: Money
    quantity: int
    line_total: Money


class OrderOut(Schema):
    id: int
    number: str
    status: str
    status_label: str
    status_reason: str
    payment_method: str
    subtotal: Money
    discount: Money
    voucher_code: str
    delivery_fee: Money
    delivery_zone: str
    total: Money
    created_at: datetime
    paid_at: datetime | None
    # Where to pay while the order awaits payment and its payment page still takes a card
    # (a declined card leaves it so until the reservation runs out); null otherwise.
    pay_url: str | None
    lines: list[OrderLineOut]


def _order(order: Order) -> dict[str, Any]:
    return {
        "id": order.pk,
        "number": order.number,
        "status": order.status,
        "status_label": order.get_status_display(),
        "status_reason": order.status_message,
        "payment_method": order.payment_method,
        "subtotal": money(order.subtotal_minor),
        "discount": money(order.discount_minor),
        "voucher_code": order.voucher_code,
        "delivery_fee": money(order.delivery_fee_minor),
        "delivery_zone": order.delivery_zone,
        "total": money(order.total_minor),
        "created_at": order.created_at,
        "paid_at": order.paid_at,
        "pay_url": order.payment_url if order.payable else None,
        "lines": [
            {
                "product_id": line.product_ref,
                "name": line.product_name,
                "unit_price": money(line.unit_price_minor),
                "quantity": line.quantity,
                "line_total": money(line.line_total_minor),
            }
            for line in order.lines.all()
        ],
    }


@router.get("", **answers(list[OrderOut], *READ), summary="The shopper's orders, newest first")
def orders_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_order(order) for order in selectors.order_list(user_id=shopper_id(request))]


@router.get(
    "/{order_id}",
    **answers(OrderOut, *READ, INVALID_REQUEST, refusal(OrderNotFound)),
    summary="One of the shopper's orders",
)
def orders_get(request: HttpRequest, order_id: Path[PathOrderId]) -> dict[str, Any]:
    return _order(selectors.order_get(user_id=shopper_id(request), order_id=order_id))
