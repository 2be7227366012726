"""Orders placed before the history was kept get what is known of it, and keep their reason."""

from __future__ import annotations

import pytest

from tests.migration_helpers import migrate_app

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def old_schema():
    apps = migrate_app("orders", "0003_background_work")
    yield apps
    migrate_app("orders", None)


def test_existing_orders_get_a_history_from_their_status_and_reason(old_schema, make_user):
    Order = old_schema.get_model("orders", "Order")
    shopper = make_user()
    common = {"source": "cart", "currency": "BDT", "total_minor": 1000, "gateway": "test"}
    pending = Order.objects.create(user_id=shopper.pk, **common)
    cancelled = Order.objects.create(
        user_id=shopper.pk,
        status="cancelled",
        status_reason="The payment was declined.",
        **common,
    )

    apps = migrate_app("orders", "0004_order_events")
    OrderEvent = apps.get_model("orders", "OrderEvent")

    def history(order):
        return list(
            OrderEvent.objects.filter(order_id=order.pk)
            .order_by("created_at", "id")
            .values_list("from_status", "to_status", "reason", "actor_kind", "actor_id", "data")
        )

    assert history(pending) == [("", "pending", "placed", "shopper", shopper.pk, {})]
    assert history(cancelled) == [
        ("", "pending", "placed", "shopper", shopper.pk, {}),
        (
            "pending",
            "cancelled",
            "before_history",
            "system",
            None,
            {"status_reason": "The payment was declined."},
        ),
    ]
    # The old reason's wording was not written for a timeline: staff see it, shoppers do not.
    assert not OrderEvent.objects.get(
        order_id=cancelled.pk, reason="before_history"
    ).visible_to_shopper
