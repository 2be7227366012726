"""On SQLite the store's SQL once stored datetimes with a UTC offset ("…+00:00"), unlike the
ORM. The cart and wishlist migrations rewrite those rows as the ORM stores them: the same
instants, every row kept, and afterwards they filter and sort like the rest."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection

from tests.migration_helpers import migrate_app

pytestmark = pytest.mark.django_db(transaction=True)

INSTANT = datetime(2026, 12, 1, 10, 40, 30, 123456, tzinfo=UTC)
WHOLE_SECOND = datetime(2026, 12, 1, 10, 40, 30, tzinfo=UTC)
# Text as found in the table -> text the ORM would have written for the same instant.
STORED = {
    "2026-12-01 10:40:30.123456+00:00": "2026-12-01 10:40:30.123456",  # the old store's SQL
    "2026-12-01 10:40:30+00:00": "2026-12-01 10:40:30",  # ... at a whole second
    "2026-12-01 16:40:30.123456+06:00": "2026-12-01 10:40:30.123456",  # any other offset
    "2026-12-01 10:40:30.123456": "2026-12-01 10:40:30.123456",  # the ORM's: untouched
}

# (app, migration before the fix, the fix, the models to fill: container model, row model)
APPS = {
    "cart": ("0001_initial", "0002_datetimes_stored_as_by_the_orm", "Cart", "CartLine"),
    "wishlist": (
        "0001_initial",
        "0002_datetimes_stored_as_by_the_orm",
        "Wishlist",
        "WishlistItem",
    ),
}


@pytest.fixture(params=sorted(APPS))
def old_schema(request):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL stores timestamps, not text: nothing to rewrite")
    app_label = request.param
    yield app_label, migrate_app(app_label, APPS[app_label][0])
    migrate_app(app_label, None)


def _texts(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT CAST("{column}" AS TEXT) FROM "{table}" ORDER BY "id"')  # noqa: S608
        return [text for (text,) in cursor.fetchall()]


def test_offset_datetimes_are_rewritten_as_the_orm_writes_them(old_schema):
    app, old = old_schema
    _, fix, container_name, row_name = APPS[app]
    User = old.get_model("accounts", "User")
    Category = old.get_model("catalog", "Category")
    Product = old.get_model("catalog", "Product")
    Container, Row = old.get_model(app, container_name), old.get_model(app, row_name)
    category = Category.objects.create(name="Bags", slug="bags")
    containers, rows = [], []
    for n, text in enumerate(STORED):
        user = User.objects.create(email=f"shopper{n}@example.com")
        product = Product.objects.create(
            category=category, name=f"Bag {n}", slug=f"bag-{n}", price_minor=100
        )
        container = Container.objects.create(user=user)
        if app == "cart":
            row = Row.objects.create(cart=container, product=product, quantity=1)
        else:
            row = Row.objects.create(
                wishlist=container,
                product=product,
                product_ref=product.pk,
                product_name=product.name,
                product_slug=product.slug,
            )
        containers.append((container._meta.db_table, container.pk, text))
        rows.append((row._meta.db_table, row.pk, text))
    with connection.cursor() as cursor:
        for table, pk, text in containers:
            cursor.execute(f'UPDATE "{table}" SET "updated_at" = %s WHERE "id" = %s', [text, pk])  # noqa: S608
        for table, pk, text in rows:
            cursor.execute(f'UPDATE "{table}" SET "added_at" = %s WHERE "id" = %s', [text, pk])  # noqa: S608
    container_table, row_table = containers[0][0], rows[0][0]
    assert _texts(row_table, "added_at") == list(STORED)

    new = migrate_app(app, fix)
    assert _texts(row_table, "added_at") == list(STORED.values())
    assert _texts(container_table, "updated_at") == list(STORED.values())
    Row = new.get_model(app, row_name)
    assert Row.objects.count() == len(STORED)
    assert Row.objects.filter(added_at=INSTANT).count() == 3
    assert Row.objects.filter(added_at=WHOLE_SECOND).count() == 1
    assert not Row.objects.filter(added_at__gt=INSTANT).exists()
