"""Two real Celery workers (``celery -A haat worker`` processes, Redis broker, this test's
PostgreSQL database), both sent the same periodic jobs several times over, as two beats would:
every order is handled exactly once (ledger rows, order states, refunds, mails counted at a
real SMTP server)."""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import redis
from aiosmtpd.controller import Controller
from celery import Celery
from django.conf import settings
from django.db import connection
from django.db.models import Sum
from kombu.exceptions import OperationalError

from catalog.models import Product, StockMovement
from checkout.services import checkout_start, order_cancel, order_fulfil
from orders.models import Order, OrderEvent, OrderMail
from orders.services import BY_TASK
from orders.tasks import send_order_mail
from payments.models import TestPaymentSession
from tests.checkout.conftest import URLS
from tests.checkout.scenarios import ledger, pay_and_crash, run_out
from tests.ports import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
PERIODIC = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]


class MailSink:
    """A real SMTP server on 127.0.0.1 that keeps what it is sent."""

    def __init__(self) -> None:
        self.subjects: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.subjects.append(str(email.message_from_bytes(envelope.content)["Subject"]))
        return "250 OK"


@pytest.fixture
def mail_sink() -> Iterator[tuple[MailSink, int]]:
    sink = MailSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


def worker_env(broker: str, smtp_port: int) -> dict[str, str]:
    db = connection.settings_dict
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTEST_VERSION", "HAAT_ENV", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DATABASE_URL=(
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
        REDIS_URL=broker,
        EMAIL_BACKEND="smtp",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        EMAIL_USE_TLS="false",
        PYTHONUNBUFFERED="1",
    )
    if settings.STORE_BACKEND == "sanity":  # the same dataset of the stand-in as this test
        env.update(
            STORE_BACKEND="sanity",
            SANITY_API_HOST=settings.SANITY_API_HOST,
            SANITY_PROJECT_ID=settings.SANITY_PROJECT_ID,
            SANITY_DATASET=settings.SANITY_DATASET,
            SANITY_API_VERSION=settings.SANITY_API_VERSION,
            SANITY_TOKEN=settings.SANITY_TOKEN,
            SANITY_MAX_ATTEMPTS=str(settings.SANITY_MAX_ATTEMPTS),
        )
    return env


def start_worker(name: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "haat", "worker", "-l", "INFO", "-c", "2"),
            *("-n", f"{name}@haat-test", "--without-gossip", "--without-mingle"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the worker and its pool
    )


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)  # warm shutdown: running tasks finish
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)


def wait_for(condition, *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:g} s waiting for {what}")
        time.sleep(0.25)


def test_two_workers_on_the_same_schedule_handle_each_order_once(
    redis_url, mail_sink, make_user, make_product, tmp_path
):
    sink, smtp_port = mail_sink
    shelf, hot, last = make_product(stock=10), make_product(stock=10), make_product(stock=1)
    # Three unpaid checkouts that ran out.
    unpaid = [checkout_start(user_id=make_user().pk, buy_now=(shelf.pk, 1), **URLS) for _ in "abc"]
    # Three paid at the gateway whose process died before fulfilling them, then ran out.
    lost = [checkout_start(user_id=make_user().pk, buy_now=(hot.pk, 2), **URLS) for _ in "abc"]
    for order in lost:
        pay_and_crash(order)
    for order in unpaid + lost:
        run_out(order)
    # One paid at the gateway but cancelled (the old expiry), its last unit sold since.
    refund = checkout_start(user_id=make_user().pk, buy_now=(last.pk, 1), **URLS)
    pay_and_crash(refund)
    run_out(refund)
    order_cancel(order_id=refund.pk, reason=OrderEvent.Reason.RESERVATION_EXPIRED, by=BY_TASK)
    checkout_start(user_id=make_user().pk, buy_now=(last.pk, 1), **URLS)
    # Two paid orders whose confirmation could not be handed to a worker (broker away).
    away = OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    with mock.patch.object(send_order_mail, "delay", side_effect=away):
        queued = [checkout_start(user_id=make_user().pk, buy_now=(hot.pk, 1), **URLS) for _ in "ab"]
        for order in queued:
            order_fulfil(order_id=order.pk, by=BY_TASK)
    assert OrderMail.objects.filter(status="pending").count() == 2

    env = worker_env(redis_url, smtp_port)
    producer = Celery("haat-test-producer", broker=redis_url)
    workers = [start_worker(name, env, tmp_path / f"{name}.log") for name in ("one", "two")]
    try:
        wait_for(
            lambda: len(producer.control.ping(timeout=0.5)) == 2,
            seconds=90,
            what="both workers to answer",
        )
        # Two beats, two ticks each: every periodic job is sent four times at once.
        for _ in range(4):
            for task in PERIODIC:
                producer.send_task(task)
        broker = redis.Redis.from_url(redis_url)

        def settled() -> bool:
            states = Counter(Order.objects.values_list("status", flat=True))
            return (
                states == Counter({"cancelled": 3, "paid": 5, "refunded": 1, "pending": 1})
                and not OrderMail.objects.exclude(status="sent").exists()
                and broker.llen("celery") == 0
                and len(sink.subjects) >= 6
            )

        wait_for(settled, seconds=120, what="the orders to settle")
        time.sleep(2)  # anything still running would show up as a second copy now
        inspector = producer.control.inspect(timeout=1)
        assert not any((inspector.active() or {}).values())
    finally:
        for worker in workers:
            stop_worker(worker)
        logs = {name: (tmp_path / f"{name}.log").read_text() for name in ("one", "two")}
    # Every job sent ran, and both workers took part.
    ran = {name: log.count(" succeeded in ") for name, log in logs.items()}
    assert sum(ran.values()) >= 4 * len(PERIODIC), logs
    assert all(ran.values()), ran
    assert not any(" raised unexpected" in log for log in logs.values()), logs

    for order in unpaid:
        assert ledger(order) == [("reservation", -1), ("release", 1)]
        assert Order.objects.get(pk=order.pk).status == "cancelled"
    for order in lost:
        assert ledger(order) == [("reservation", -2), ("release", 2), ("sale", -2)]
    refunded = Order.objects.get(pk=refund.pk)
    assert refunded.status == "refunded"
    assert ledger(refund) == [("reservation", -1), ("release", 1)]
    assert TestPaymentSession.objects.get(order=refund).refund_reference == (
        refunded.refund_reference
    )
    expected = Counter(
        [f"Haat: Order {order.number} is confirmed" for order in lost + queued]
        + [f"Haat: Your payment for order {refunded.number} was refunded"]
    )
    assert Counter(sink.subjects) == expected  # each mail exactly once
    assert Product.objects.get(pk=shelf.pk).stock == 10
    assert Product.objects.get(pk=hot.pk).stock == 10 - 6 - 2
    assert Product.objects.get(pk=last.pk).stock == 0
    for product in (shelf, hot, last):
        total = StockMovement.objects.filter(product=product).aggregate(total=Sum("delta"))
        assert total["total"] == Product.objects.get(pk=product.pk).stock
