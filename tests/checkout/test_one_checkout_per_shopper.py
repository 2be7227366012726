"""One live reservation per shopper: concurrent checkouts by one shopper, served by several
gunicorn worker processes on PostgreSQL, leave exactly one (the newest) holding stock."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest
from django.db import IntegrityError, transaction
from django.db.models import Sum

from catalog.models import Product, StockMovement
from checkout.models import Reservation
from checkout.services import CheckoutInProgress
from haat.errors import InsufficientStock
from orders.models import Order, OrderLine
from payments.models import TestPaymentSession
from tests.api_helpers import assert_error, call
from tests.gunicorn_server import GunicornServer, signed_in_cookies

ROUNDS, REQUESTS, UNITS, STOCK = 3, 50, 3, 500
# This is the database's rule under a storm of one shopper's checkouts: the per-shopper rate
# limit (tests/haat/test_rate_limits.py) would turn most of the storm away before it got there.
NO_RATE_LIMITS = {"RATE_LIMIT_CHECKOUT": "off", "RATE_LIMIT_CART_WRITES": "off"}
DELIVERY = {
    "name": "Rina Akter",
    "phone": "01712345678",
    "address": "House 12, Road 5, Dhanmondi",
    "city": "Dhaka",
}


@dataclass(frozen=True)
class Round:
    live_reservations: int
    held_units: int
    reserved_answers: int
    refusals: dict[str, int]
    server_errors: int


def buy_now(http: httpx.Client, csrf: str, product_id: int, index: int) -> str:
    """One Buy Now, alternately through the JSON API and the HTML form; what it answered."""
    if index % 2:
        response = http.post(
            "/api/checkout",
            json={"buy_now": {"product_id": product_id, "quantity": UNITS}},
            headers={"X-CSRFToken": csrf},
        )
        if response.status_code == 200:
            return "reserved"
        return f"refused: {response.json()['code']}" if response.status_code < 500 else "error"
    response = http.post(
        "/checkout/start/",
        data={"buy_now": product_id, "quantity": UNITS, "csrfmiddlewaretoken": csrf, **DELIVERY},
    )
    if response.status_code >= 500:
        return "error"
    location = response.headers.get("Location", "")
    return "reserved" if location.startswith("/payments/test/") else "refused: form"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_buy_nows_by_one_shopper_leave_one_live_reservation(
    make_user, make_product
):
    shopper = make_user()
    product = make_product(stock=STOCK)
    cookies, csrf = signed_in_cookies(shopper)
    rounds: list[Round] = []
    limits = httpx.Limits(max_connections=REQUESTS, max_keepalive_connections=REQUESTS)
    with GunicornServer(workers=3, threads=4, env=NO_RATE_LIMITS) as server:
        for _ in range(ROUNDS):
            gate = threading.Barrier(REQUESTS, timeout=30)
            # A client per round: a kept-alive connection left idle between rounds is closed by
            # the server (gunicorn's keep-alive is 2 s) and, reused as it closes, fails with
            # "Server disconnected" on a busy machine, which is no answer of Haat's.
            with httpx.Client(
                base_url=server.url, cookies=cookies, timeout=60, limits=limits
            ) as http:

                def attempt(
                    index: int, gate: threading.Barrier = gate, http: httpx.Client = http
                ) -> str:
                    gate.wait()
                    return buy_now(http, csrf, product.pk, index)

                with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
                    answers = list(pool.map(attempt, range(REQUESTS)))
            live = Reservation.objects.filter(status="active", order__user=shopper)
            held = OrderLine.objects.filter(order__reservation__in=live).aggregate(
                units=Sum("quantity")
            )["units"]
            rounds.append(
                Round(
                    live_reservations=live.count(),
                    held_units=held or 0,
                    reserved_answers=answers.count("reserved"),
                    refusals=dict(Counter(a for a in answers if a.startswith("refused"))),
                    server_errors=answers.count("error"),
                )
            )
    for number, result in enumerate(rounds, 1):
        print(f"round {number}: {result}")

    assert [r.server_errors for r in rounds] == [0] * ROUNDS
    assert all(r.reserved_answers >= 1 for r in rounds)
    assert [(r.live_reservations, r.held_units) for r in rounds] == [(1, UNITS)] * ROUNDS
    # The one that holds stock is the shopper's newest order, and only it can still be paid.
    newest = Order.objects.filter(user=shopper).order_by("-pk").first()
    holding = Reservation.objects.get(status="active", order__user=shopper)
    assert newest is not None and holding.order_id == newest.pk
    pending = Order.objects.filter(user=shopper, status=Order.Status.PENDING)
    assert list(pending.values_list("pk", flat=True)) == [newest.pk]
    open_sessions = TestPaymentSession.objects.filter(order__user=shopper, status="open")
    assert list(open_sessions.values_list("order_id", flat=True)) == [newest.pk]
    # Every released unit came back through the ledger.
    assert Product.objects.get(pk=product.pk).stock == STOCK - UNITS
    ledger = StockMovement.objects.filter(product=product).aggregate(total=Sum("delta"))["total"]
    assert ledger == STOCK - UNITS


def stock(product) -> int:
    return Product.objects.get(pk=product.pk).stock


@pytest.mark.django_db
def test_a_new_checkout_replaces_the_earlier_one_in_one_go(start, shopper, make_product):
    kettle, mug = make_product(stock=5), make_product(stock=5)
    earlier = start(shopper, buy_now=(kettle.pk, 2))
    newer = start(shopper, buy_now=(mug.pk, 1))
    earlier.refresh_from_db()
    assert earlier.status == Order.Status.CANCELLED
    assert earlier.reservation.status == Reservation.Status.RELEASED
    assert newer.reservation.user_id == shopper.pk
    assert (stock(kettle), stock(mug)) == (5, 4)
    assert TestPaymentSession.objects.get(order=earlier).status == "expired"
    assert list(
        Reservation.objects.filter(user=shopper, status="active").values_list("order", flat=True)
    ) == [newer.pk]


@pytest.mark.django_db
def test_a_refused_checkout_leaves_the_earlier_one_alone(start, shopper, make_product):
    kettle, mug = make_product(stock=5), make_product(stock=1)
    earlier = start(shopper, buy_now=(kettle.pk, 2))
    with pytest.raises(InsufficientStock):
        start(shopper, buy_now=(mug.pk, 2))
    earlier.refresh_from_db()
    assert earlier.status == Order.Status.PENDING
    assert (stock(kettle), stock(mug)) == (3, 1)


@pytest.mark.django_db
def test_the_database_allows_one_active_reservation_per_shopper(start, shopper, make_product):
    order = start(shopper, buy_now=(make_product(stock=5).pk, 1))
    other = start(shopper, buy_now=(make_product(stock=5).pk, 1))  # the first is released
    assert Reservation.objects.get(order=order).status == Reservation.Status.RELEASED
    with pytest.raises(IntegrityError), transaction.atomic():
        Reservation.objects.filter(order=order).update(status=Reservation.Status.ACTIVE)
    assert Reservation.objects.get(order=other).status == Reservation.Status.ACTIVE


@pytest.mark.django_db
def test_a_checkout_that_would_break_the_rule_is_refused_clearly(
    start, shopper, shopper_client, make_product
):
    """The constraint is the backstop behind the shopper lock: here an active reservation whose
    order is not pending (so no checkout will cancel it) stands in for a writer the lock did not
    hold back. The refusal is a clear 409, never a 500, and nothing is reserved."""
    held = make_product(stock=5)
    wanted = make_product(stock=5)
    order = start(shopper, buy_now=(held.pk, 1))
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID)
    with pytest.raises(CheckoutInProgress) as refusal:
        start(shopper, buy_now=(wanted.pk, 2))
    assert refusal.value.code == "checkout_in_progress" and refusal.value.http_status == 409
    assert stock(wanted) == 5
    assert Order.objects.filter(user=shopper).count() == 1
    assert Reservation.objects.filter(user=shopper, status="active").count() == 1
    assert not StockMovement.objects.filter(product=wanted, reason="reservation").exists()
    api = call(
        shopper_client,
        "POST",
        "/api/checkout",
        {"buy_now": {"product_id": wanted.pk, "quantity": 2}},
    )
    assert_error(api, 409, "checkout_in_progress")
    assert stock(wanted) == 5
