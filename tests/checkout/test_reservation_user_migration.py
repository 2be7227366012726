"""The migration that links reservations to their shopper keeps every row, including shoppers
whom the old race left with several active reservations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)


def migrate(checkout_migration: str | None):
    """Migrate checkout to that migration (every other app stays at its latest)."""
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    targets = [
        ("checkout", checkout_migration)
        if app == "checkout" and checkout_migration
        else (app, name)
        for app, name in leaves
    ]
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_schema():
    apps = migrate("0002_initial")
    yield apps
    migrate(None)


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

    apps = migrate("0003_reservation_user")
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
