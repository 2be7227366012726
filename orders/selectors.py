"""Reading orders. A shopper only ever sees their own. Selectors only read: expired
reservations are released by the periodic job (beat, or the in-process ticker), not here."""

from __future__ import annotations

from functools import cache

from django.db import connection
from django.db.models import Prefetch, QuerySet

from haat.errors import DeliveryZoneUnknown, OrderNotFound
from haat.store.sql import columns, from_row, sql
from orders.models import DeliveryZone, Order, OrderEvent, OrderLine


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
        raise OrderNotFound(order_id=order_id)
    return order


def order_timeline(*, order: Order) -> list[OrderEvent]:
    """What the shopper is shown of ``order``'s history, oldest first (staff see it all in the
    admin)."""
    return list(order.events.filter(visible_to_shopper=True).order_by("created_at", "id"))


def delivery_zones() -> list[DeliveryZone]:
    """The zones a shopper can choose from, in the admin's order."""
    return list(DeliveryZone.objects.filter(is_active=True))


def delivery_zone_choose(
    *, user_id: int | None, zone_id: int | None = None, city: str = ""
) -> DeliveryZone | None:
    """The zone a delivery goes to: the one asked for (``zone_id``, refused if it is not an
    active zone); else the zone of the shopper's latest order; else one serving ``city``; else
    the default one. None only when the shop has no zones (delivery is then free)."""
    # One statement (every checkout asks): the active zones, each row with the zone of the
    # shopper's latest order.
    with connection.cursor() as cursor:
        cursor.execute(_zones_with_last_zone(), [user_id, True])
        rows = cursor.fetchall()
    zones = [from_row(DeliveryZone, row) for row in rows]
    if zone_id is not None:
        for zone in zones:
            if zone.pk == zone_id:
                return zone
        raise DeliveryZoneUnknown(delivery_zone_id=zone_id)
    if not zones:
        return None
    last = rows[0][-1]
    if last:
        for zone in zones:
            if zone.name == last:
                return zone
    for zone in zones:
        if zone.serves(city):
            return zone
    return next((zone for zone in zones if zone.is_default), zones[0])


@cache
def _zones_with_last_zone() -> str:
    """Active zones in the admin's order (as ``delivery_zones``), each row ending with the
    delivery zone of the given shopper's latest order that names one (NULL: none)."""
    # Names from the models' _meta; values are parameters.
    return f"SELECT {columns(DeliveryZone, 'z')}, " + sql(  # noqa: S608
        "(SELECT o.{O.delivery_zone} FROM {O} o WHERE o.{O.user} = %s "
        "AND o.{O.delivery_zone} <> '' ORDER BY o.{O.created_at} DESC, o.{O.pk} DESC "
        "LIMIT 1) FROM {Z} z WHERE z.{Z.is_active} = %s ORDER BY z.{Z.position}, z.{Z.pk}",
        O=Order,
        Z=DeliveryZone,
    )
