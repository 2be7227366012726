"""Reading orders. A shopper only ever sees their own. Selectors only read: expired
reservations are released by the periodic job (beat, or the in-process ticker), not here."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from haat.errors import OrderNotFound
from orders.models import Order, OrderEvent, OrderLine


def _orders(user_id: int) -> QuerySet[Order]:
    return (
        Order.objects.filter(user_id=user_id)
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
            "lines__product__images",
        )
        .select_related("reservation")
    )


def order_list(*, user_id: int) -> list[Order]:
    return list(_orders(user_id))


def order_get(*, user_id: int, order_id: int) -> Order:
    order = _orders(user_id).filter(pk=order_id).first()
    if order is None:
        raise OrderNotFound(_("Order not found."), order_id=order_id)
    return order


def order_timeline(*, order: Order) -> list[OrderEvent]:
    """What the shopper is shown of ``order``'s history, oldest first (staff see it all in the
    admin)."""
    return list(order.events.filter(visible_to_shopper=True).order_by("created_at", "id"))
