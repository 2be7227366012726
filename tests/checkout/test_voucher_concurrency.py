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


def test_late_payments_and_new_redemptions_share_the_voucher_limit(make_user, make_product):
    """Five orders expired (their uses given back) are paid late while ten other shoppers
    redeem the same five-use voucher: the late payments count their use again under the same
    row lock as a redemption, so exactly five orders in all hold it; a late payment that finds
    it used up is refunded, never sold at the discount."""
    from payments.gateways.test import session_object, signed_event
    from payments.models import TestPaymentSession
    from payments.services import expire_test_session, webhook_receive

    product = make_product(stock=200)
    voucher = Voucher.objects.create(
        code="LATE5",
        kind=Voucher.Kind.FIXED,
        value=5000,
        starts_at=timezone.now() - timedelta(hours=1),
        max_uses=5,
    )
    late_orders = [
        checkout_start(
            user_id=make_user().pk, buy_now=(product.pk, 1), voucher_code="LATE5", **URLS
        )
        for _ in range(5)
    ]
    events = []
    for order in late_orders:
        expire_test_session(session_id=order.payment_session_id)
        session = TestPaymentSession.objects.get(order=order)
        session.status, session.payment_status = "complete", "paid"
        session.payment_reference = f"pi_test_late_{order.pk}"
        session.save()
        events.append(signed_event("checkout.session.completed", session_object(session)))
    assert Voucher.objects.get(pk=voucher.pk).uses == 0
    newcomers = [make_user() for _ in range(10)]
    start = threading.Barrier(15)

    def attempt(index: int):
        try:
            start.wait()
            if index < 5:
                payload, header = events[index]
                webhook_receive(gateway_name="test", payload=payload, signature=header)
                return ("late", late_orders[index].pk)
            order = checkout_start(
                user_id=newcomers[index - 5].pk,
                buy_now=(product.pk, 1),
                voucher_code="LATE5",
                **URLS,
            )
            return ("new", order.pk)
        except VoucherRefused as refusal:
            return (refusal.code, None)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=15) as pool:
        results = list(pool.map(attempt, range(15)))

    holding = VoucherRedemption.objects.filter(voucher=voucher, status="active")
    assert holding.count() == 5 == Voucher.objects.get(pk=voucher.pk).uses
    late = Order.objects.filter(pk__in=[order.pk for order in late_orders])
    paid_late = late.filter(status="paid")
    assert set(late.values_list("status", flat=True)) <= {"paid", "refunded"}
    assert set(paid_late.values_list("pk", flat=True)) == set(
        holding.filter(order__in=late).values_list("order_id", flat=True)
    )
    new_orders = [order_id for kind, order_id in results if kind == "new"]
    assert paid_late.count() + len(new_orders) == 5
    assert [kind for kind, _ in results].count("voucher_used_up") == 10 - len(new_orders)
    # Stock: sold to the late payers that kept the voucher, held for the newcomers.
    assert Product.objects.get(pk=product.pk).stock == 200 - 5
