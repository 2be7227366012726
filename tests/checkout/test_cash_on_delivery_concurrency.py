"""200 shoppers place cash-on-delivery orders for a product with 10 units at once, on
PostgreSQL with real connections: the same conditional stock take as card checkout."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.db.models import Sum

from catalog.models import Product, StockMovement
from checkout.services import checkout_start
from haat.errors import InsufficientStock
from orders.models import Order, OrderMail
from tests.checkout.conftest import URLS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_hundred_cod_orders_for_ten_units(make_user, make_product):
    product = make_product(stock=10, price_minor=50000)
    shoppers = [make_user() for _ in range(200)]
    start = threading.Barrier(16)

    def attempt(index: int):
        try:
            if index < 16:
                start.wait()
            order = checkout_start(
                user_id=shoppers[index].pk,
                buy_now=(product.pk, 1),
                payment_method="cod",
                **URLS,
            )
            return ("ok", order.pk)
        except InsufficientStock as refusal:
            return ("refused", refusal.details["items"])
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(attempt, range(200)))

    kinds = [kind for kind, _ in results]
    assert kinds.count("ok") == 10
    assert kinds.count("refused") == 190
    assert Order.objects.filter(status="awaiting_delivery", payment_method="cod").count() == 10
    assert Order.objects.count() == 10
    assert OrderMail.objects.filter(kind="confirmation").count() == 10
    assert Product.objects.get(pk=product.pk).stock == 0
    ledger = StockMovement.objects.filter(product=product)
    assert ledger.filter(reason="sale").count() == 10
    assert ledger.aggregate(total=Sum("delta"))["total"] == 0
    assert not StockMovement.objects.filter(resulting_stock__lt=0).exists()
