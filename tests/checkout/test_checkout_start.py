"""Starting checkout: re-check, reserve in one transaction, open the payment session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from cart.selectors import cart_contents
from cart.services import cart_add_line
from catalog.models import Product, StockMovement
from catalog.services import stock_adjust
from checkout.models import Reservation
from checkout.selectors import EmptySelection
from haat.errors import InsufficientStock, ShortItem
from orders.models import Order
from payments.gateways import GatewayError
from payments.models import TestPaymentSession

pytestmark = pytest.mark.django_db


def stock(product) -> int:
    return Product.objects.get(pk=product.pk).stock


def test_reserves_selected_lines_with_server_prices(start, shopper, make_product):
    kettle = make_product(stock=5, price_minor=150000, name="Kettle")
    mug = make_product(stock=5, price_minor=35000, name="Mug")
    other = make_product(stock=5)
    cart_add_line(user_id=shopper.pk, product_id=kettle.pk, quantity=2)
    cart_add_line(user_id=shopper.pk, product_id=mug.pk, quantity=1)
    cart_add_line(user_id=shopper.pk, product_id=other.pk, quantity=1)
    order = start(shopper, product_ids=[kettle.pk, mug.pk])
    assert order.status == Order.Status.PENDING
    assert order.total_minor == 2 * 150000 + 35000
    assert [
        (line.product_name, line.quantity, line.unit_price_minor) for line in order.lines.all()
    ] == [
        ("Kettle", 2, 150000),
        ("Mug", 1, 35000),
    ]
    assert (stock(kettle), stock(mug), stock(other)) == (3, 4, 5)
    reservation = order.reservation
    assert reservation.status == Reservation.Status.ACTIVE
    expected = timezone.now() + timedelta(minutes=30)
    assert abs((reservation.expires_at - expected).total_seconds()) < 5
    assert order.payment_session_id.startswith("cs_test_")
    assert order.payment_url == f"/payments/test/{order.payment_session_id}/"
    movements = StockMovement.objects.filter(reference=order.number, reason="reservation")
    assert sorted(movements.values_list("delta", flat=True)) == [-2, -1]
    # The cart is untouched until payment succeeds.
    assert len(cart_contents(user_id=shopper.pk).lines) == 3


def test_buy_now_reserves_just_that_product(start, shopper, make_product):
    product = make_product(stock=4)
    order = start(shopper, buy_now=(product.pk, 3))
    assert order.source == Order.Source.BUY_NOW
    assert stock(product) == 1
    assert cart_contents(user_id=shopper.pk).lines == {}


def test_short_lines_are_refused_itemised_and_nothing_is_reserved(start, shopper, make_product):
    fine = make_product(stock=5, name="Fine")
    short = make_product(stock=5, name="Short")
    gone = make_product(stock=5, name="Gone")
    for product, quantity in ((fine, 1), (short, 4), (gone, 1)):
        cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=quantity)
    stock_adjust(product_id=short.pk, delta=-3, reason="sale")
    gone.is_published = False
    gone.save()
    with pytest.raises(InsufficientStock) as refusal:
        start(shopper, product_ids=[fine.pk, short.pk, gone.pk])
    assert refusal.value.details["items"] == [
        {"product_id": short.pk, "name": "Short", "requested": 4, "available": 2},
        {"product_id": gone.pk, "name": "Gone", "requested": 1, "available": 0},
    ]
    assert Order.objects.count() == 0
    assert (stock(fine), stock(short), stock(gone)) == (5, 2, 5)


def test_empty_selection(start, shopper, make_product):
    with pytest.raises(EmptySelection):
        start(shopper, product_ids=[])
    with pytest.raises(EmptySelection):
        start(shopper, product_ids=[make_product().pk])  # not in the cart


def test_failed_payment_session_releases_at_once(start, shopper, make_product, monkeypatch):
    product = make_product(stock=3)

    def broken(self, **kwargs):
        raise GatewayError(reason="The payment provider is not available right now.")

    monkeypatch.setattr("payments.gateways.test.TestGateway.create_session", broken)
    with pytest.raises(GatewayError):
        start(shopper, buy_now=(product.pk, 2))
    order = Order.objects.get()
    assert order.status == Order.Status.CANCELLED
    assert order.reservation.status == Reservation.Status.RELEASED
    assert stock(product) == 3
    ledger = StockMovement.objects.filter(product=product).aggregate(total=Sum("delta"))["total"]
    assert ledger == 3


def test_expired_reservations_free_stock_for_the_next_buyer(start, make_user, make_product):
    first, second = make_user(), make_user()
    product = make_product(stock=1)
    order = start(first, buy_now=(product.pk, 1))
    with pytest.raises(InsufficientStock):
        start(second, buy_now=(product.pk, 1))
    Reservation.objects.filter(order=order).update(expires_at=timezone.now() - timedelta(seconds=1))
    second_order = start(second, buy_now=(product.pk, 1))
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert second_order.status == Order.Status.PENDING
    assert stock(product) == 0


def test_sweeper_command_releases_expired(start, shopper, make_product):
    from django.core.management import call_command

    product = make_product(stock=2)
    order = start(shopper, buy_now=(product.pk, 2))
    Reservation.objects.filter(order=order).update(expires_at=timezone.now() - timedelta(minutes=1))
    call_command("release_expired_reservations")
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert stock(product) == 2


@pytest.mark.postgres
def test_a_second_buy_now_replaces_the_first_in_few_statements(
    start, shopper, make_product, django_assert_max_num_queries
):
    """The shopper's second try: the first order is cancelled (its reservation closed by a
    conditional UPDATE in the statement of the order's status change, its units back with
    their ledger row in one statement, no savepoints for that) and the new one reserved; the
    payment session is recorded by one conditional UPDATE and the answer needs no further
    read. The zones and the shopper's last zone are one read, the earlier order with its lines
    and voucher another (sent with the shopper's lock in one round trip), the product needs no
    lock of its own (its return and its take touch it in id order anyway), the earlier order's
    status change goes with its event, the new order with its line, reservation and event, and
    the payment session's insert needs no savepoint, nor the reservation (a refusal is rolled
    back whole). In a test's transaction, where every atomic block is a savepoint, that is 12
    round trips (2 of them savepoints); it was 14, 25 (6), and 39 (14) before that."""
    product = make_product(stock=10)
    first = start(shopper, buy_now=(product.pk, 2))
    with django_assert_max_num_queries(12) as captured:
        second = start(shopper, buy_now=(product.pk, 3))
        assert second.reservation.status == Reservation.Status.ACTIVE
    assert sum("SAVEPOINT" in q["sql"] for q in captured.captured_queries) <= 2
    first.refresh_from_db()
    assert first.status == Order.Status.CANCELLED
    assert first.reservation.status == Reservation.Status.RELEASED
    assert stock(product) == 7
    released = StockMovement.objects.get(reference=first.number, reason="release")
    assert (released.delta, released.resulting_stock) == (2, 10)
    assert second.payment_session_id and Order.objects.get(pk=second.pk).payment_url


def product_locks(captured) -> list[str]:
    return [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith('SELECT "id" FROM "catalog_product"') and "FOR UPDATE" in q["sql"]
    ]


@pytest.mark.postgres
def test_replacing_locks_the_products_first_only_when_ids_would_be_touched_out_of_order(
    start, shopper, make_product, django_assert_max_num_queries
):
    """Every stock change locks products in ascending id. A replacing checkout returns the
    earlier order's units, then takes the new ones (each in ascending id): when that already
    touches them in ascending id (the same product again, or a higher one), no lock statement
    is needed; when it would not (the earlier order held a higher id), all are locked first."""
    low, high = make_product(stock=10), make_product(stock=10)
    start(shopper, buy_now=(low.pk, 1))
    with django_assert_max_num_queries(12) as same_again:
        start(shopper, buy_now=(low.pk, 1))
    assert product_locks(same_again) == []
    with django_assert_max_num_queries(12) as higher:
        start(shopper, buy_now=(high.pk, 1))
    assert product_locks(higher) == []
    with django_assert_max_num_queries(13) as lower:
        start(shopper, buy_now=(low.pk, 2))
    [lock] = product_locks(lower)
    assert f"IN ({low.pk}, {high.pk}) ORDER BY" in lock
    # The lock comes before any stock moves.
    statements = [q["sql"] for q in lower.captured_queries]
    first_move = next(i for i, s in enumerate(statements) if 'UPDATE "catalog_product"' in s)
    assert statements.index(lock) < first_move
    assert (stock(low), stock(high)) == (8, 10)
    assert StockMovement.objects.filter(product=high).aggregate(total=Sum("delta"))["total"] == 10


def test_a_checkout_refused_in_its_transaction_still_replaces_the_earlier_one(
    start, shopper, make_product, monkeypatch
):
    """The units went between the re-check and the reservation: the new checkout is refused
    and rolled back, and the earlier one stays cancelled all the same (newest wins), its units
    back with their ledger rows and its payment session closed."""
    kettle, mug = make_product(stock=5, name="Kettle"), make_product(stock=5, name="Mug")
    first = start(shopper, buy_now=(kettle.pk, 2))

    def gone(**kwargs):
        raise InsufficientStock(items=[ShortItem(mug.pk, "Mug", 1, 0)])

    monkeypatch.setattr("checkout.services.stock_take", gone)
    with pytest.raises(InsufficientStock):
        start(shopper, buy_now=(mug.pk, 1))
    first.refresh_from_db()
    assert first.status == Order.Status.CANCELLED
    assert first.reservation.status == Reservation.Status.RELEASED
    assert list(Order.objects.values_list("pk", flat=True)) == [first.pk]  # nothing new kept
    assert (stock(kettle), stock(mug)) == (5, 5)
    assert StockMovement.objects.get(reference=first.number, reason="release").delta == 2
    session = TestPaymentSession.objects.get(session_id=first.payment_session_id)
    assert session.status == TestPaymentSession.Status.EXPIRED
    assert first.events.filter(reason="checkout_replaced").count() == 1
