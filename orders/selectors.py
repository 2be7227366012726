"""Reading orders. A shopper only ever sees their own. Selectors only read: expired
reservations are released by the periodic job (beat, or the in-process ticker), not here."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Prefetch, QuerySet, Subquery

from haat.errors import DeliveryZoneUnknown, OrderNotFound
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
    if zone_id is None and user_id is not None:
        # The zones and the zone of the shopper's latest order in one query (the cart page and
        # checkout ask on every view).
        latest = (
            Order.objects.filter(user_id=user_id)
            .exclude(delivery_zone="")
            .values("delivery_zone")[:1]
        )
        annotated = list(
            DeliveryZone.objects.filter(is_active=True).annotate(latest_zone=Subquery(latest))
        )
        for candidate in annotated:
            if candidate.name == candidate.latest_zone:
                return candidate
        return _zone_serving(annotated, city)
    zones = delivery_zones()
    if zone_id is not None:
        for zone in zones:
            if zone.pk == zone_id:
                return zone
        raise DeliveryZoneUnknown(delivery_zone_id=zone_id)
    return _zone_serving(zones, city)


def _zone_serving(zones: Sequence[DeliveryZone], city: str) -> DeliveryZone | None:
    """The first of ``zones`` serving ``city``, else the default one; None for no zones."""
    if not zones:
        return None
    for zone in zones:
        if zone.serves(city):
            return zone
    return next((zone for zone in zones if zone.is_default), zones[0])
