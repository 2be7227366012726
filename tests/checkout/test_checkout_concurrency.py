"""200 shoppers race to check out a product with 10 units, on PostgreSQL with real connections."""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.db.models import Sum

from catalog.models import Product, StockMovement
from checkout.models import Reservation
from checkout.services import checkout_start
from haat.errors import InsufficientStock
from orders.models import Order
from payments.services import pay_with_test_card
from tests.checkout.conftest import URLS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_hundred_checkouts_for_ten_units(make_user, make_product):
    product = make_product(stock=10)
    shoppers = [make_user() for _ in range(200)]
    start = threading.Barrier(16)

    def attempt(index: int):
        try:
            if index < 16:
                start.wait()
            order = checkout_start(user_id=shoppers[index].pk, buy_now=(product.pk, 1), **URLS)
            return ("ok", order.pk)
        except InsufficientStock as refusal:
            return ("refused", refusal.details["items"])
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(attempt, range(200)))

    accepted = [value for kind, value in results if kind == "ok"]
    refused = [value for kind, value in results if kind == "refused"]
    assert len(accepted) == 10
    assert len(refused) == 190
    for items in refused:  # every refusal is itemised
        assert items[0]["product_id"] == product.pk and items[0]["requested"] == 1
        assert items[0]["available"] == 0
    assert Reservation.objects.filter(status="active").count() == 10
    assert Product.objects.get(pk=product.pk).stock == 0

    def pay(order_id: int) -> None:
        try:
            order = Order.objects.get(pk=order_id)
            pay_with_test_card(session_id=order.payment_session_id, card_number="4242424242424242")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(pay, accepted))

    assert Order.objects.filter(status="paid").count() == 10
    assert Product.objects.get(pk=product.pk).stock == 0
    total = StockMovement.objects.filter(product=product).aggregate(total=Sum("delta"))["total"]
    assert total == 0
    assert StockMovement.objects.filter(product=product, reason="sale").count() == 10
    assert not StockMovement.objects.filter(resulting_stock__lt=0).exists()


def test_concurrent_multi_product_checkouts_never_deadlock(make_user, make_product):
    """Orders that share products in different orders lock rows in one fixed order."""
    a, b, c = make_product(stock=40), make_product(stock=40), make_product(stock=40)
    shoppers = [make_user() for _ in range(24)]
    from cart.services import cart_add_line

    orders = [[a, b, c], [c, b, a], [b, c, a], [c, a, b]]
    for i, shopper in enumerate(shoppers):
        for product in orders[i % 4]:
            cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=1)

    def attempt(i: int):
        try:
            ids = [p.pk for p in orders[i % 4]]
            return checkout_start(user_id=shoppers[i].pk, product_ids=ids, **URLS).pk
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=12) as pool:
        created = list(pool.map(attempt, range(24)))
    assert len(created) == 24
    for product in (a, b, c):
        assert Product.objects.get(pk=product.pk).stock == 16


def test_shoppers_swapping_checkouts_over_the_same_products_never_deadlock(
    make_user, make_product, monkeypatch
):
    """Each shopper's new checkout returns the units of their earlier one and takes others in
    one transaction. Here A's earlier order holds P1 and A now buys P2, while B's holds P2 and
    B now buys P1: both transactions are held between the release and the take, which would
    deadlock unless every product involved is locked up front in one order."""
    import checkout.services as services

    first, second = make_product(stock=5), make_product(stock=5)
    a, b = make_user(), make_user()
    checkout_start(user_id=a.pk, buy_now=(first.pk, 1), **URLS)
    checkout_start(user_id=b.pk, buy_now=(second.pk, 1), **URLS)
    both_released = threading.Barrier(2, timeout=2)
    cancel = services._order_cancel_locked

    def cancel_then_wait(order, **how):
        cancel(order, **how)
        # A broken barrier: the other one is (rightly) waiting for our locks.
        with contextlib.suppress(threading.BrokenBarrierError):
            both_released.wait()

    monkeypatch.setattr(services, "_order_cancel_locked", cancel_then_wait)

    def attempt(shopper_and_product):
        shopper, product = shopper_and_product
        try:
            return checkout_start(user_id=shopper.pk, buy_now=(product.pk, 1), **URLS).pk
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        created = list(pool.map(attempt, [(a, second), (b, first)]))
    assert len(created) == 2
    assert Reservation.objects.filter(status="active").count() == 2
    assert (Product.objects.get(pk=first.pk).stock, Product.objects.get(pk=second.pk).stock) == (
        4,
        4,
    )
