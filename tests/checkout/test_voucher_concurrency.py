"""100 shoppers redeem a voucher with 10 uses at once, on PostgreSQL with real connections."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from catalog.models import Product
from checkout.models import Voucher, VoucherRedemption
from checkout.services import checkout_start
from haat.errors import VoucherRefused
from orders.models import Order
from tests.checkout.conftest import URLS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_hundred_shoppers_ten_uses(make_user, make_product):
    product = make_product(stock=200)
    voucher = Voucher.objects.create(
        code="RUSH10",
        kind=Voucher.Kind.FIXED,
        value=5000,
        starts_at=timezone.now() - timedelta(hours=1),
        max_uses=10,
    )
    shoppers = [make_user() for _ in range(100)]
    start = threading.Barrier(16)

    def attempt(index: int):
        try:
            if index < 16:
                start.wait()
            order = checkout_start(
                user_id=shoppers[index].pk, buy_now=(product.pk, 1), voucher_code="RUSH10", **URLS
            )
            return ("ok", order.pk)
        except VoucherRefused as refusal:
            return (refusal.code, None)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(attempt, range(100)))

    outcomes = [kind for kind, _ in results]
    assert outcomes.count("ok") == 10
    assert outcomes.count("voucher_used_up") == 90
    assert Voucher.objects.get(pk=voucher.pk).uses == 10
    assert VoucherRedemption.objects.filter(status="active").count() == 10
    assert Order.objects.filter(discount_minor=5000).count() == 10
    assert Order.objects.count() == 10  # the refused ones left nothing behind
    assert Product.objects.get(pk=product.pk).stock == 190


# The expiry job here jumps two hours ahead, so it may end a reservation between its placement and
# its payment session; the Sanity store's slower cart calls widen that window until a shopper's
# own next checkout reports it replaced. The property tested (one lock order in PostgreSQL, no
# deadlock) is the database's, and the database run tests it.
@pytest.mark.skipif(
    os.environ.get("HAAT_TEST_STORE") == "sanity",
    reason="lock order in the database; the time-jumping expiry job races the Sanity store's calls",
)
def test_replacing_checkouts_and_expiry_with_vouchers_never_deadlock(make_user, make_product):
    """Shoppers start again (their earlier order gives its voucher back and its units are
    returned) while others redeem and the expiry job cancels: rows are locked in one order
    (shopper, orders, vouchers, products), so nobody deadlocks and the counts add up."""
    from checkout.services import reservations_release_expired

    a, b = make_product(stock=500), make_product(stock=500)
    voucher = Voucher.objects.create(
        code="SWAP", kind="percent", value=5, starts_at=timezone.now() - timedelta(hours=1)
    )
    shoppers = [make_user() for _ in range(24)]
    start = threading.Barrier(12)

    def attempt(index: int):
        try:
            if index < 12:
                start.wait()
            first, second = (a, b) if index % 2 else (b, a)
            for product in (first, second, first):
                checkout_start(
                    user_id=shoppers[index].pk,
                    buy_now=(product.pk, 1 + index % 3),
                    voucher_code="SWAP",
                    **URLS,
                )
            if index % 4 == 0:
                reservations_release_expired(now=timezone.now() + timedelta(hours=2))
            return "ok"
        except Exception as error:  # a deadlock would surface here
            return f"{type(error).__name__}: {error}"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(attempt, range(24)))

    # A shopper's next checkout may find its reservation ended by the racing expiry job (it
    # jumps two hours ahead) and be refused as replaced; that is a refusal, not a deadlock.
    # Seen on a loaded 2-core machine.
    assert [r for r in results if r != "ok" and not r.startswith("CheckoutReplaced:")] == []
    active = VoucherRedemption.objects.filter(status="active").count()
    assert Voucher.objects.get(pk=voucher.pk).uses == active
    assert active == Order.objects.filter(status="pending").count()
    held = sum(
        line.quantity
        for order in Order.objects.filter(status="pending")
        for line in order.lines.all()
    )
    assert Product.objects.get(pk=a.pk).stock + Product.objects.get(pk=b.pk).stock == 1000 - held
