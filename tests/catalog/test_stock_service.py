"""stock_adjust: the one way stock changes, always with a ledger row."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum

from catalog.models import Product, StockMovement
from catalog.services import stock_adjust
from haat.errors import InsufficientStock, InvalidQuantity, ProductNotFound, ShortItem

pytestmark = pytest.mark.django_db


def test_increase_writes_a_ledger_row(make_product, shopper):
    product = make_product(stock=0)
    movement = stock_adjust(
        product_id=product.pk, delta=7, reason="restock", actor=shopper, note="goods received"
    )
    product.refresh_from_db()
    assert product.stock == 7
    assert (movement.delta, movement.resulting_stock, movement.reason) == (7, 7, "restock")
    assert movement.actor == shopper
    assert movement.product_name == product.name
    assert movement.created_at is not None


def test_decrease_within_stock(make_product):
    product = make_product(stock=5)
    movement = stock_adjust(product_id=product.pk, delta=-5, reason="sale", reference="order-1")
    product.refresh_from_db()
    assert product.stock == 0
    assert movement.resulting_stock == 0
    assert movement.reference == "order-1"


def test_decrease_beyond_stock_is_refused_and_changes_nothing(make_product):
    product = make_product(stock=3)
    before = StockMovement.objects.count()
    with pytest.raises(InsufficientStock) as refusal:
        stock_adjust(product_id=product.pk, delta=-4, reason="sale")
    assert refusal.value.items == [ShortItem(product.pk, product.name, 4, 3)]
    product.refresh_from_db()
    assert product.stock == 3
    assert StockMovement.objects.count() == before


@pytest.mark.parametrize("delta", [0, 1.5, "3", True, None])
def test_bad_deltas_are_refused(make_product, delta):
    product = make_product(stock=3)
    with pytest.raises(InvalidQuantity):
        stock_adjust(product_id=product.pk, delta=delta, reason="correction")
    product.refresh_from_db()
    assert product.stock == 3


def test_unknown_product(db):
    with pytest.raises(ProductNotFound):
        stock_adjust(product_id=999_999, delta=-1, reason="sale")


def test_unknown_reason_is_a_programming_error(make_product):
    product = make_product(stock=3)
    with pytest.raises(ValueError, match="reason"):
        stock_adjust(product_id=product.pk, delta=1, reason="gift")


def test_database_refuses_negative_stock_even_bypassing_the_service(make_product):
    product = make_product(stock=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(stock=-1)


def test_ledger_explains_the_stock(make_product):
    product = make_product(stock=10)
    stock_adjust(product_id=product.pk, delta=-3, reason="sale")
    stock_adjust(product_id=product.pk, delta=5, reason="restock")
    stock_adjust(product_id=product.pk, delta=-2, reason="damaged")
    product.refresh_from_db()
    total = StockMovement.objects.filter(product=product).aggregate(total=Sum("delta"))["total"]
    assert total == product.stock == 10
    latest = StockMovement.objects.filter(product=product).first()
    assert latest is not None and latest.resulting_stock == 10


def test_deleting_a_product_keeps_its_ledger(make_product):
    product = make_product(stock=4)
    name = product.name
    product.delete()
    movement = StockMovement.objects.get(product_name=name)
    assert movement.product is None
    assert movement.delta == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sales_never_oversell(make_product):
    """40 threads, each on its own PostgreSQL connection, race for 15 units."""
    product = make_product(stock=15)
    start = threading.Barrier(40)

    def buy_one() -> bool:
        try:
            start.wait()
            stock_adjust(product_id=product.pk, delta=-1, reason="sale")
            return True
        except InsufficientStock:
            return False
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=40) as pool:
        results = list(pool.map(lambda _: buy_one(), range(40)))

    product.refresh_from_db()
    sales = StockMovement.objects.filter(product=product, reason="sale")
    assert results.count(True) == 15
    assert product.stock == 0
    assert sales.count() == 15
    # Each sale saw a different resulting stock: no two took the same unit.
    assert sorted(sales.values_list("resulting_stock", flat=True)) == list(range(15))


def test_stock_take_writes_one_ledger_row_per_product(make_product, shopper):
    from catalog.services import stock_take

    a, b = make_product(stock=5), make_product(stock=2)
    levels = stock_take(
        quantities={a.pk: 2, b.pk: 1}, reason="reservation", reference="HT-1", actor=shopper
    )
    assert levels == {a.pk: 3, b.pk: 1}
    rows = StockMovement.objects.filter(reference="HT-1").order_by("product_id")
    assert [(r.product_id, r.delta, r.resulting_stock, r.reason, r.actor_id) for r in rows] == [
        (a.pk, -2, 3, "reservation", shopper.pk),
        (b.pk, -1, 1, "reservation", shopper.pk),
    ]
    assert all(r.product_name for r in rows)


def test_stock_take_refusal_changes_nothing_and_writes_nothing(make_product):
    from catalog.services import stock_take

    a, b = make_product(stock=5), make_product(stock=1)
    before = StockMovement.objects.count()
    with pytest.raises(InsufficientStock) as refusal:
        stock_take(quantities={a.pk: 2, b.pk: 2}, reason="reservation", reference="HT-2")
    assert refusal.value.items == [ShortItem(b.pk, b.name, 2, 1)]
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.stock, b.stock) == (5, 1)
    assert StockMovement.objects.count() == before
    with pytest.raises(InsufficientStock):
        stock_take(quantities={b.pk: 3}, reason="reservation", reference="HT-3")
    assert StockMovement.objects.count() == before
