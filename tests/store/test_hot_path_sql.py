"""The database store's hand-written SQL writes rows the ORM cannot tell from its own: the same
datetimes (SQLite stores them as text, so the text must match too), and the tables and
columns the models name."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from cart.models import Cart, CartLine
from catalog.models import StockMovement
from catalog.services import stock_return, stock_take
from checkout.models import Reservation
from haat.store import WishlistEntry, database
from haat.store import sql as database_sql
from haat.store.database import DatabaseStore
from haat.store.sql import (
    Alongside,
    columns,
    from_row,
    insert,
    insert_family,
    sql,
    update,
    update_and_insert,
)
from orders.models import Order, OrderEvent, OrderLine
from payments.models import TestPaymentSession
from wishlist.models import Wishlist, WishlistItem

# An instant with microseconds and one without: SQLite writes the two as text of different
# lengths, where a stray "+00:00" changes how they compare.
INSTANTS = [
    datetime(2026, 12, 1, 10, 40, 30, 123456, tzinfo=UTC),
    datetime(2026, 12, 1, 10, 40, 30, tzinfo=UTC),
]


@pytest.fixture
def store(settings, db) -> DatabaseStore:
    settings.STORE_BACKEND = "database"
    return DatabaseStore()


@pytest.fixture
def fresh_sql():
    """The store builds each statement once; a test that changes _meta starts and ends clean."""
    sql.cache_clear()
    database._ledger_insert.cache_clear()
    yield
    sql.cache_clear()
    database._ledger_insert.cache_clear()


def frozen(instant: datetime):
    return mock.patch("django.utils.timezone.now", return_value=instant)


@pytest.mark.parametrize("instant", INSTANTS, ids=["microseconds", "whole-second"])
def test_cart_rows_filter_and_sort_with_orm_rows(store, shopper, make_product, instant):
    by_store, by_orm = make_product(), make_product()
    with frozen(instant):
        store.cart_update(shopper.pk, [by_store.pk], lambda lines, products: {by_store.pk: 1})
        cart = Cart.objects.get(user=shopper)
        CartLine.objects.create(cart=cart, product=by_orm, quantity=1)  # same instant, later id

    lines = CartLine.objects.filter(cart=cart)
    assert lines.get(product=by_store).added_at == instant
    assert set(lines.filter(added_at=instant).values_list("product", flat=True)) == {
        by_store.pk,
        by_orm.pk,
    }
    assert not lines.filter(added_at__gt=instant).exists()
    assert lines.filter(added_at__lte=instant).count() == 2
    # Same instant: the id decides, for the ORM and for the store's own read alike.
    assert list(lines.values_list("product", flat=True)) == [by_store.pk, by_orm.pk]
    assert list(store.cart_get(shopper.pk).lines) == [by_store.pk, by_orm.pk]
    assert Cart.objects.filter(user=shopper, updated_at=instant).exists()


@pytest.mark.parametrize("instant", INSTANTS, ids=["microseconds", "whole-second"])
def test_wishlist_rows_filter_and_sort_with_orm_rows(store, shopper, make_product, instant):
    by_store, by_orm = make_product(), make_product()
    with frozen(instant):
        store.wishlist_update(
            shopper.pk,
            [by_store.pk],
            lambda entries, products: [WishlistEntry(by_store.pk, "A", "a"), *entries],
        )
        wishlist = Wishlist.objects.get(user=shopper)
        WishlistItem.objects.create(
            wishlist=wishlist,
            product=by_orm,
            product_ref=by_orm.pk,
            product_name="B",
            product_slug="b",
        )

    items = WishlistItem.objects.filter(wishlist=wishlist)
    assert items.get(product_ref=by_store.pk).added_at == instant
    assert items.filter(added_at=instant).count() == 2
    assert not items.filter(added_at__gt=instant).exists()
    # Newest first; same instant: the higher id first.
    assert list(items.values_list("product_ref", flat=True)) == [by_orm.pk, by_store.pk]
    assert [e.product_id for e in store.wishlist_get(shopper.pk).items] == [by_orm.pk, by_store.pk]
    assert Wishlist.objects.filter(user=shopper, updated_at=instant).exists()


@pytest.mark.postgres
def test_reservation_ledger_row_equals_the_orm_row(store, make_product, make_user):
    """PostgreSQL writes the reservation's ledger row in the same statement as the stock
    change; it must hold what the ORM would have written, column for column."""
    product, actor = make_product(stock=5), make_user()
    instant = INSTANTS[0]
    with frozen(instant):
        stock_take(quantities={product.pk: 2}, reason="reservation", reference="R-1", actor=actor)
        by_orm = StockMovement.objects.create(
            product=product,
            product_name=product.name,
            reason="reservation",
            delta=-2,
            resulting_stock=3,
            actor=actor,
            reference="R-1",
        )
    by_store = StockMovement.objects.exclude(pk=by_orm.pk).get(reason="reservation")
    assert model_to_dict(by_store, exclude=["id"]) == model_to_dict(by_orm, exclude=["id"])
    assert by_store.created_at == instant


def test_statements_take_table_and_column_names_from_the_models(
    store, shopper, make_product, fresh_sql
):
    """Rename the cart line table and a column in the database and in _meta only: the store
    follows _meta, so its rows land in the renamed table and column."""
    product = make_product()
    quantity = CartLine._meta.get_field("quantity")
    with connection.cursor() as cursor:
        cursor.execute('ALTER TABLE "cart_cartline" RENAME TO "shop_cart_line"')
        cursor.execute('ALTER TABLE "shop_cart_line" RENAME COLUMN "quantity" TO "how_many"')
    with (
        mock.patch.object(CartLine._meta, "db_table", "shop_cart_line"),
        mock.patch.object(quantity, "column", "how_many"),
    ):
        store.cart_update(shopper.pk, [product.pk], lambda lines, products: {product.pk: 2})
        store.cart_update(shopper.pk, [product.pk], lambda lines, products: {product.pk: 3})
        assert store.cart_get(shopper.pk).lines == {product.pk: 3}
    with connection.cursor() as cursor:
        cursor.execute('SELECT "product_id", "how_many" FROM "shop_cart_line"')
        assert cursor.fetchall() == [(product.pk, 3)]


@pytest.mark.postgres
def test_ledger_statement_takes_names_from_the_model(store, make_product, fresh_sql):
    product = make_product(stock=5)
    reason = StockMovement._meta.get_field("reason")
    with connection.cursor() as cursor:
        cursor.execute('ALTER TABLE "catalog_stockmovement" RENAME TO "shop_ledger"')
        cursor.execute('ALTER TABLE "shop_ledger" RENAME COLUMN "reason" TO "why"')
    with (
        mock.patch.object(StockMovement._meta, "db_table", "shop_ledger"),
        mock.patch.object(reason, "column", "why"),
    ):
        assert store.stock_take_recorded(
            {product.pk: 1}, reason="reservation", reference="R-2", actor_id=None
        ) == {product.pk: 4}
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT "why", "delta", "resulting_stock" FROM "shop_ledger" WHERE "reference" = %s',
            ["R-2"],
        )
        assert cursor.fetchall() == [("reservation", -1, 4)]


def test_ledger_values_refuse_an_unknown_field(fresh_sql):
    _, parameters = database._ledger_insert()
    with pytest.raises(TypeError, match="staff"):
        database._ledger_values(parameters, staff=1)


@pytest.mark.postgres
def test_returned_units_ledger_rows_equal_the_orm_rows(store, make_product, make_user):
    """A release writes its ledger rows in the statements that put the units back (no
    savepoints); they must hold what the ORM would have written, and a deleted product is
    skipped."""
    product, other, actor = make_product(stock=5), make_product(stock=1), make_user()
    gone = make_product(stock=0)
    gone_pk = gone.pk
    gone.delete()
    instant = INSTANTS[0]
    with frozen(instant), CaptureQueriesContext(connection) as captured:
        stock_return(
            quantities={product.pk: 2, other.pk: 3, gone_pk: 1},
            reason="release",
            reference="R-3",
            actor=actor,
        )
    assert not [q for q in captured.captured_queries if "SAVEPOINT" in q["sql"]]
    assert len(captured.captured_queries) == 3  # one statement per product
    with frozen(instant):
        by_orm = StockMovement.objects.create(
            product=product,
            product_name=product.name,
            reason="release",
            delta=2,
            resulting_stock=7,
            actor=actor,
            reference="R-3",
        )
    by_store = StockMovement.objects.exclude(pk=by_orm.pk).get(reference="R-3", product=product)
    assert model_to_dict(by_store, exclude=["id"]) == model_to_dict(by_orm, exclude=["id"])
    assert StockMovement.objects.get(reference="R-3", product=other).resulting_stock == 4
    assert StockMovement.objects.exclude(pk=by_orm.pk).filter(reference="R-3").count() == 2


@pytest.mark.parametrize("instant", INSTANTS, ids=["microseconds", "whole-second"])
def test_rows_inserted_by_hand_equal_the_orm_rows(shopper, instant, fresh_sql):
    """The checkout writes its orders, events and reservations with ``sql.insert``: the rows
    must be the ORM's, column for column (datetimes, JSON, defaults, auto_now), on SQLite too;
    and ``from_row`` must read them back as the ORM does."""
    fields = {"user": shopper, "source": "buy_now", "currency": "BDT", "total_minor": 500}
    with frozen(instant):
        by_hand = Order(**fields, delivery_city="Dhaka")
        assert insert(by_hand) == 1
        by_orm = Order.objects.create(**fields, delivery_city="Dhaka")
        events = [
            OrderEvent(order=order, actor_kind="shopper", to_status="pending", reason="placed")
            for order in (by_hand, by_orm)
        ]
        for event in events:  # (its default is the real timezone.now, bound at import)
            event.data, event.created_at = {"gateway": "test", "n": 1}, instant
        insert(events[0])
        events[1].save()
    stored = Order.objects.get(pk=by_hand.pk)
    assert model_to_dict(stored, exclude=["id"]) == model_to_dict(by_orm, exclude=["id"])
    assert stored.created_at == stored.updated_at == instant == by_hand.created_at
    assert Order.objects.filter(created_at=instant).count() == 2
    assert not Order.objects.filter(created_at__gt=instant).exists()
    hand_event, orm_event = (OrderEvent.objects.get(pk=e.pk) for e in events)
    assert model_to_dict(hand_event, exclude=["id", "order"]) == model_to_dict(
        orm_event, exclude=["id", "order"]
    )
    assert OrderEvent.objects.filter(data__gateway="test").count() == 2

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns(Order, 'o')} FROM {sql('{O}', O=Order)} o ORDER BY o.id"  # noqa: S608
        )
        read = [from_row(Order, row) for row in cursor.fetchall()]
    assert [model_to_dict(o) for o in read] == [model_to_dict(o) for o in (stored, by_orm)]
    assert read[0].created_at == instant


def test_insert_ignoring_a_conflict_writes_nothing_and_keeps_the_transaction(shopper):
    order = Order.objects.create(user=shopper, source="cart", currency="BDT", total_minor=1)
    session = {
        "idempotency_key": "k-1",
        "order": order,
        "amount_minor": 1,
        "currency": "BDT",
        "success_url": "/ok",
        "cancel_url": "/no",
        "expires_at": INSTANTS[0],
    }
    first = TestPaymentSession(session_id="cs_1", **session)
    assert insert(first, ignore_conflict_on="idempotency_key") == 1
    assert first.pk is not None
    again = TestPaymentSession(session_id="cs_2", **session)
    assert insert(again, ignore_conflict_on="idempotency_key") == 0
    assert again.pk is None
    assert list(TestPaymentSession.objects.values_list("session_id", flat=True)) == ["cs_1"]


def test_update_by_hand_prepares_values_as_the_orm(shopper):
    order = Order.objects.create(user=shopper, source="cart", currency="BDT", total_minor=1)
    assert update(Order, {"paid_at": INSTANTS[1], "status": "paid"}, pk=order.pk, status="x") == 0
    assert update(Order, {"paid_at": INSTANTS[1], "status": "paid"}, pk=order.pk) == 1
    assert Order.objects.filter(paid_at=INSTANTS[1], status="paid").count() == 1


def test_a_new_order_and_its_rows_are_written_in_one_statement(shopper, make_product):
    """``insert_family``: on PostgreSQL the order, its lines, reservation and event go in one
    round trip; elsewhere one INSERT each. Either way the rows refer to the new order and equal
    what the ORM writes."""
    product = make_product()
    order = Order(user=shopper, source="buy_now", currency="BDT", total_minor=500)
    line = OrderLine(
        order=order,
        product=product,
        product_ref=product.pk,
        product_name="Kettle",
        product_slug="kettle",
        unit_price_minor=500,
        quantity=1,
    )
    reservation = Reservation(order=order, user=shopper, expires_at=INSTANTS[0])
    event = OrderEvent(order=order, actor_kind="shopper", to_status="pending", reason="placed")
    with CaptureQueriesContext(connection) as captured:
        insert_family(order, line, reservation, event)
    assert len(captured.captured_queries) == (1 if connection.vendor == "postgresql" else 4)
    assert order.pk and line.order_id == reservation.order_id == event.order_id == order.pk
    assert line.order is order and order.reservation is reservation  # no reads to get them
    assert list(order.lines.values_list("pk", "product_name")) == [(line.pk, "Kettle")]
    assert Reservation.objects.get(order=order).pk == reservation.pk
    assert model_to_dict(Reservation.objects.get(pk=reservation.pk)) == model_to_dict(reservation)
    assert OrderEvent.objects.get(order=order).pk == event.pk


def test_a_change_and_its_row_are_written_together_or_not_at_all(shopper):
    """``update_and_insert`` (an order's status change and its event): the row is written only
    if the update matched; on PostgreSQL in the update's statement."""
    order = Order.objects.create(user=shopper, source="cart", currency="BDT", total_minor=1)

    def event() -> OrderEvent:
        return OrderEvent(order=order, actor_kind="task", to_status="paid", reason="paid")

    missed = event()
    assert (
        update_and_insert(Order, {"status": "paid"}, missed, pk=order.pk, status="cancelled") == 0
    )
    assert missed.pk is None and not OrderEvent.objects.exists()
    made = event()
    with CaptureQueriesContext(connection) as captured:
        assert (
            update_and_insert(Order, {"status": "paid"}, made, pk=order.pk, status="pending") == 1
        )
    assert len(captured.captured_queries) == (1 if connection.vendor == "postgresql" else 2)
    assert Order.objects.get(pk=order.pk).status == "paid"
    assert list(OrderEvent.objects.values_list("pk", "order", "to_status")) == [
        (made.pk, order.pk, "paid")
    ]


def test_a_change_alongside_is_made_in_the_same_statement_whether_or_not_the_main_one_matches(
    shopper,
):
    """``update_and_insert(..., alongside)`` (an order's cancellation closing its reservation):
    the other update runs either way and says how many rows it matched; on PostgreSQL the
    three go in one statement."""
    order = Order.objects.create(user=shopper, source="cart", currency="BDT", total_minor=1)
    Reservation.objects.create(order=order, user=shopper, expires_at=INSTANTS[0])

    def closing() -> Alongside:
        return Alongside(
            Reservation, {"status": "released"}, {"order": order.pk, "status": "active"}
        )

    def event() -> OrderEvent:
        return OrderEvent(order=order, actor_kind="task", to_status="cancelled", reason="paid")

    missed, missed_closing = event(), closing()
    changed = update_and_insert(
        Order, {"status": "cancelled"}, missed, missed_closing, pk=order.pk, status="paid"
    )
    assert (changed, missed_closing.matched, missed.pk) == (0, 1, None)
    assert Reservation.objects.get(order=order).status == "released"
    assert not OrderEvent.objects.exists()
    made, again = event(), closing()
    with CaptureQueriesContext(connection) as captured:
        changed = update_and_insert(
            Order, {"status": "cancelled"}, made, again, pk=order.pk, status="pending"
        )
    assert (changed, again.matched) == (1, 0)  # closed already: nothing to close again
    assert len(captured.captured_queries) == (1 if connection.vendor == "postgresql" else 3)
    assert Order.objects.get(pk=order.pk).status == "cancelled"
    assert list(OrderEvent.objects.values_list("pk", "order", "to_status")) == [
        (made.pk, order.pk, "cancelled")
    ]


@pytest.mark.parametrize("model", [Order, OrderLine, OrderEvent, Reservation, TestPaymentSession])
def test_plain_values_skip_only_preparation_that_changes_nothing(model, db):
    """The hand-written inserts hand a plain value of a plain field (text, integer, boolean) to
    the database as it is: exactly what the field's own preparation gives."""
    samples = ["text", "", 7, 0, True, False, None, INSTANTS[0], {"a": 1}]
    for field in model._meta.concrete_fields:
        for value in samples:
            try:
                expected = field.get_db_prep_save(value, connection)
            except (TypeError, ValueError, ValidationError):
                continue  # not a value of this field
            prepared = database_sql._prepared(field, value)
            assert type(prepared) is type(expected), (field, value)
            if type(expected).__module__ == "builtins":
                assert prepared == expected, (field, value)


def test_hand_written_statements_refuse_expressions(shopper):
    """``update`` takes values only: an expression (which the ORM would turn into SQL) is
    refused, never sent to the database as a value."""
    order = Order.objects.create(user=shopper, source="cart", currency="BDT", total_minor=1)
    with pytest.raises(TypeError, match="expression"):
        update(Order, {"total_minor": F("total_minor") + 1}, pk=order.pk)
    assert Order.objects.get(pk=order.pk).total_minor == 1
