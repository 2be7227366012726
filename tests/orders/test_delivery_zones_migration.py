"""Orders placed before delivery fees and vouchers keep their total as their items' subtotal;
the shop starts with the two usual zones."""

from __future__ import annotations

import pytest

from tests.migration_helpers import migrate_app

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def old_schema():
    apps = migrate_app("orders", "0004_order_events")
    yield apps
    migrate_app("orders", None)


def test_old_orders_get_their_subtotal_and_the_default_zones_exist(old_schema, make_user):
    Order = old_schema.get_model("orders", "Order")
    order = Order.objects.create(
        user_id=make_user().pk, source="cart", currency="BDT", total_minor=123400, gateway="test"
    )
    apps = migrate_app("orders", "0005_delivery_zones_and_amounts")
    migrated = apps.get_model("orders", "Order").objects.get(pk=order.pk)
    assert (migrated.subtotal_minor, migrated.delivery_fee_minor, migrated.discount_minor) == (
        123400,
        0,
        0,
    )
    assert migrated.total_minor == 123400
    zones = apps.get_model("orders", "DeliveryZone").objects.order_by("position")
    assert [(z.name, z.fee_minor, z.free_from_minor, z.is_default) for z in zones] == [
        ("Inside Dhaka", 6000, 300000, True),
        ("Outside Dhaka", 12000, 500000, False),
    ]
