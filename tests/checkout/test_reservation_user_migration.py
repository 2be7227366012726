"""The migration that links reservations to their shopper keeps every row, including shoppers
whom the old race left with several active reservations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.migration_helpers import migrate_app

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def old_schema():
    apps = migrate_app("checkout", "0002_initial")
    yield apps
    migrate_app("checkout", None)


def test_backfill_links_each_reservation_and_keeps_duplicates(old_schema):
    User = old_schema.get_model("accounts", "User")
    Order = old_schema.get_model("orders", "Order")
    Reservation = old_schema.get_model("checkout", "Reservation")
    hoarder = User.objects.create(email="hoarder@example.com")
    other = User.objects.create(email="other@example.com")
    later = timezone.now() + timedelta(minutes=30)

    def reservation(user, status="active"):
        order = Order.objects.create(
            user=user, source="buy_now", currency="BDT", total_minor=100, gateway="test"
        )
        return Reservation.objects.create(order=order, status=status, expires_at=later).pk

    older, newest = reservation(hoarder), reservation(hoarder)
    released = reservation(hoarder, status="released")
    single = reservation(other)
    orphan = reservation(None)

    apps = migrate_app("checkout", "0003_reservation_user")
    Reservation = apps.get_model("checkout", "Reservation")
    rows = dict(Reservation.objects.values_list("pk", "user_id"))
    assert rows == {
        older: None,  # still active, still found through its pending order
        newest: hoarder.pk,
        released: hoarder.pk,
        single: other.pk,
        orphan: None,
    }
    assert Reservation.objects.filter(status="active").count() == 4
