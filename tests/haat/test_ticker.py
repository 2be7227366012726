"""Issue 12, finding 1 and item 3: with no broker and nobody running a sweep, the web process
itself releases an expired reservation within a period, with no request at all."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from checkout.models import Reservation
from orders.models import Order
from tests.checkout.conftest import URLS
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]

CREATE_EXPIRED_ORDER = """
from datetime import timedelta
from django.utils import timezone
from accounts.models import User
from catalog.models import Category, Product
from catalog.services import stock_adjust
from checkout.models import Reservation
from checkout.services import checkout_start

user = User.objects.create_user(email="late@example.com", password="pw-12345-abcdef")
category = Category.objects.create(name="Pots", slug="pots")
product = Product.objects.create(name="Clay Pot", slug="clay-pot", price_minor=5000, category=category)
stock_adjust(product_id=product.pk, delta=1, reason="initial")
order = checkout_start(
    user_id=user.pk, buy_now=(product.pk, 1),
    success_url="http://127.0.0.1/s?order={ORDER_ID}", cancel_url="http://127.0.0.1/c",
)
Reservation.objects.filter(order=order).update(expires_at=timezone.now() - timedelta(seconds=5))
print(order.pk)
"""


@pytest.mark.django_db(transaction=True)
def test_the_ticker_releases_an_expired_reservation_on_its_own(make_user, make_product):
    from checkout.services import checkout_start
    from haat.ticker import Ticker

    product = make_product(stock=1)
    order = checkout_start(user_id=make_user().pk, buy_now=(product.pk, 1), **URLS)
    Reservation.objects.filter(order=order).update(expires_at=timezone.now() - timedelta(seconds=1))
    schedule = {"release": {"task": "checkout.tasks.release_expired_reservations", "schedule": 0.2}}
    ticker = Ticker(schedule).start()
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if Order.objects.get(pk=order.pk).status != Order.Status.PENDING:
                break
            time.sleep(0.1)
    finally:
        ticker.stop()
    assert not ticker.is_alive()
    assert Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED
    assert Reservation.objects.get(order=order).status == Reservation.Status.RELEASED


def test_no_ticker_in_tests_nor_with_a_broker(settings, monkeypatch):
    from haat.ticker import start_embedded_ticker

    assert start_embedded_ticker() is None  # under pytest
    monkeypatch.delenv("PYTEST_VERSION")
    settings.EMBEDDED_TICKER = False  # what REDIS_URL sets
    assert start_embedded_ticker() is None


def test_runserver_releases_an_expired_reservation_with_no_request(tmp_path):
    """`make run`'s server, reloader and all: the reservation is released by the server process
    alone. The management commands that set it up release nothing."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "PYTEST_VERSION",
            "DATABASE_URL",
            "TEST_DATABASE_NAME",
            "REDIS_URL",
            "HAAT_ENV",
            "STORE_BACKEND",
            "DJANGO_SETTINGS_MODULE",
        }
    }
    env.update(HAAT_DATA_DIR=str(tmp_path), RESERVATION_SWEEP_SECONDS="1", PYTHONUNBUFFERED="1")
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=180)
    created = subprocess.run(
        [*manage, "shell", "-c", CREATE_EXPIRED_ORDER],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    )
    order_id = int(created.stdout.split()[-1])
    database = sqlite3.connect(tmp_path / "haat.sqlite3")

    def reservation_status() -> str:
        return database.execute(
            "SELECT status FROM checkout_reservation WHERE order_id = ?", (order_id,)
        ).fetchone()[0]

    assert reservation_status() == "active"  # no command released it
    log = (tmp_path / "runserver.log").open("w")
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{free_port()}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the reloader and its child
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and reservation_status() == "active":
            time.sleep(0.25)
        released_after = 60 - (deadline - time.monotonic())
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=15)
        log.close()
    output = (tmp_path / "runserver.log").read_text()
    assert reservation_status() == "released", output
    order_status, reason = database.execute(
        "SELECT status, status_reason FROM orders_order WHERE id = ?", (order_id,)
    ).fetchone()
    assert (order_status, reason) == ("cancelled", "The reservation expired before payment.")
    assert released_after < 60
    # One ticker: the reloader's parent process does not run one.
    assert output.count("running the periodic jobs in this process") == 1, output
