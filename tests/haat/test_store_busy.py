"""A lock held too long answers 503 store_busy within the lock timeout, and changes nothing.

Another connection holds a row lock (a stuck transaction, a long admin edit) while a shopper's
request needs the same row. With ``lock_timeout`` (DATABASE_LOCK_TIMEOUT_MS) PostgreSQL gives
up on the wait, and Haat answers "busy, try again" instead of holding the worker. Without it
the request waits as long as the lock is held (here: HOLD_SECONDS, then the holder lets go).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection, transaction

from cart.models import Cart, CartLine
from cart.services import cart_add_line
from catalog.models import Product, StockMovement
from checkout.models import Reservation
from orders.models import Order
from tests.api_helpers import assert_error, call

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# With the Sanity store, carts live in Sanity (its own busy answer: tests/store); a lock on the
# database's cart row proves nothing there.
database_carts_only = pytest.mark.skipif(
    os.environ.get("HAAT_TEST_STORE") == "sanity",
    reason="carts are kept in Sanity in this run; Sanity's store_busy is tested in tests/store",
)

LOCK_TIMEOUT_MS = 300
HOLD_SECONDS = 8  # bounds the wait where no lock timeout is configured


@pytest.fixture
def short_lock_timeout() -> Iterator[None]:
    """This test's connections give up waiting for a lock after LOCK_TIMEOUT_MS: the value the
    settings put into the connection options (from DATABASE_LOCK_TIMEOUT_MS), shortened."""
    options = connection.settings_dict["OPTIONS"]
    configured = options.get("options", "")
    options["options"] = re.sub(r"lock_timeout=\d+", f"lock_timeout={LOCK_TIMEOUT_MS}", configured)
    _reconnect()
    yield
    options["options"] = configured
    _reconnect()


def _reconnect() -> None:
    connection.close()
    if getattr(connection, "pool", None) is not None:
        connection.close_pool()  # type: ignore[attr-defined]  # it keeps the options it opened with


@contextmanager
def row_locked(lock: Callable[[], object]) -> Iterator[None]:
    """Run ``lock`` (a SELECT … FOR UPDATE) in a transaction on another connection and keep
    it until the block ends, or at most HOLD_SECONDS."""
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                lock()
                locked.set()
                release.wait(HOLD_SECONDS)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10), "the other connection could not take the lock"
    try:
        yield
    finally:
        release.set()
        holder.join(HOLD_SECONDS + 5)


@pytest.fixture(autouse=True)
def _warm(client):
    # The first request of a process imports the views and builds the API: not lock waiting.
    client.get("/api/state")


def timed(request: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    response = request()
    return response, time.monotonic() - started


def test_checkout_answers_store_busy_while_the_product_row_is_locked(
    short_lock_timeout, shopper_client, make_product
):
    product = make_product(stock=5)
    ledger = StockMovement.objects.count()
    body = {"buy_now": {"product_id": product.pk, "quantity": 1}}

    with row_locked(lambda: Product.objects.select_for_update().get(pk=product.pk)):
        response, seconds = timed(lambda: call(shopper_client, "POST", "/api/checkout", body))

    payload = assert_error(response, 503, "store_busy")
    assert payload["details"] == {}
    assert response["Retry-After"] == "2"
    assert seconds < HOLD_SECONDS / 2, f"the request waited {seconds:.1f} s for the lock"
    # Nothing changed: no order, no reservation, the stock and the ledger as they were.
    assert not Order.objects.exists()
    assert not Reservation.objects.exists()
    assert Product.objects.get(pk=product.pk).stock == 5
    assert StockMovement.objects.count() == ledger
    # Once the lock is gone the same request goes through.
    assert call(shopper_client, "POST", "/api/checkout", body).status_code == 200


@database_carts_only
def test_adding_to_the_cart_answers_store_busy_while_the_cart_is_locked(
    short_lock_timeout, shopper, shopper_client, make_product
):
    product = make_product(stock=5)
    cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=1)
    body = {"product_id": product.pk, "quantity": 2}

    with row_locked(lambda: Cart.objects.select_for_update().get(user=shopper)):
        response, seconds = timed(lambda: call(shopper_client, "POST", "/api/cart/lines", body))

    assert_error(response, 503, "store_busy")
    assert response["Retry-After"] == "2"
    assert seconds < HOLD_SECONDS / 2, f"the request waited {seconds:.1f} s for the lock"
    assert list(CartLine.objects.values_list("product_id", "quantity")) == [(product.pk, 1)]


@database_carts_only
def test_the_page_form_answers_a_friendly_busy_page(
    short_lock_timeout, shopper, shopper_client, make_product
):
    product = make_product(stock=5)
    cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=1)

    with row_locked(lambda: Cart.objects.select_for_update().get(user=shopper)):
        response, seconds = timed(
            lambda: shopper_client.post("/cart/add/", {"product_id": product.pk, "quantity": 1})
        )

    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Many people are changing this right now" in page
    assert "Nothing was changed" in page
    assert seconds < HOLD_SECONDS / 2, f"the request waited {seconds:.1f} s for the lock"
    assert list(CartLine.objects.values_list("product_id", "quantity")) == [(product.pk, 1)]


def test_a_statement_past_its_timeout_is_store_busy_too():
    from django.db import OperationalError

    from haat.busy import store_busy_from

    with (
        pytest.raises(OperationalError) as stopped,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET LOCAL statement_timeout = 50")
        cursor.execute("SELECT pg_sleep(2)")
    busy = store_busy_from(stopped.value)
    assert busy is not None and busy.code == "store_busy"
