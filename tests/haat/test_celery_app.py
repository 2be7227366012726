"""The Celery app's configuration: Redis from REDIS_URL, redelivery of a killed worker's task,
the one schedule with its periods from the environment, and in-process work without a broker."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis
from django.conf import settings

from tests.manage_process import PRODUCTION_ENV, manage

ROOT = Path(__file__).resolve().parents[2]
PERIODIC = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

SHOW_CONFIG = """
import json
from django.conf import settings
from haat.celery import app
c = app.conf
print(json.dumps({
    "broker": c.broker_url, "backend": c.result_backend, "eager": c.task_always_eager,
    "acks_late": c.task_acks_late, "reject_on_worker_lost": c.task_reject_on_worker_lost,
    "prefetch": c.worker_prefetch_multiplier, "visibility": c.broker_transport_options,
    "schedule": {k: [v["task"], v["schedule"]] for k, v in c.beat_schedule.items()},
    "ticker": settings.EMBEDDED_TICKER, "site_url": settings.SITE_URL,
}))
"""


def config(tmp_path, **env: str) -> dict:
    result = manage("shell", "-c", SHOW_CONFIG, HAAT_DATA_DIR=str(tmp_path), **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_with_redis_url_tasks_go_to_redis_and_survive_a_killed_worker(tmp_path):
    shown = config(tmp_path, REDIS_URL="redis://127.0.0.1:6379/8", RESERVATION_SWEEP_SECONDS="15")
    assert shown["broker"] == shown["backend"] == "redis://127.0.0.1:6379/8"
    assert shown["eager"] is False and shown["ticker"] is False
    assert shown["acks_late"] and shown["reject_on_worker_lost"] and shown["prefetch"] == 1
    assert shown["visibility"] == {"visibility_timeout": 3600}
    assert shown["schedule"] == {
        "release-expired-reservations": ["checkout.tasks.release_expired_reservations", 15.0],
        "reconcile-payment-sessions": ["checkout.tasks.reconcile_payment_sessions", 60.0],
        "retry-due-refunds": ["checkout.tasks.retry_due_refunds", 300.0],
        "send-due-order-mails": ["orders.tasks.send_due_order_mails", 300.0],
        "send-due-back-in-stock-alerts": ["wishlist.tasks.send_due_back_in_stock_alerts", 300.0],
        "deliver-store-changes": ["catalog.tasks.deliver_store_changes", 30.0],
        "reconcile-store": ["catalog.tasks.reconcile_store", 3600.0],
    }


def test_without_redis_url_tasks_run_in_process_and_the_ticker_runs_the_schedule(tmp_path):
    shown = config(tmp_path, REDIS_URL="")
    assert shown["eager"] is True and shown["ticker"] is True
    assert shown["site_url"] == "http://127.0.0.1:8000"


def test_production_derives_the_site_url_and_stays_check_clean(tmp_path):
    production = {
        **{k: v for k, v in PRODUCTION_ENV.items() if k != "ALLOWED_HOSTS"},
        "REDIS_URL": "redis://127.0.0.1:6379/8",
    }
    assert (
        config(tmp_path, ALLOWED_HOSTS="shop.example.com", **production)["site_url"]
        == "https://shop.example.com"
    )
    assert (
        config(
            tmp_path,
            ALLOWED_HOSTS=".example.com,shop.example.com",
            CSRF_TRUSTED_ORIGINS="https://www.example.com/",
            **production,
        )["site_url"]
        == "https://www.example.com"
    )
    clean = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        ALLOWED_HOSTS="shop.example.com",
        HAAT_DATA_DIR=str(tmp_path),
        **production,
    )
    assert clean.returncode == 0, clean.stdout + clean.stderr
    nowhere = manage("check", "--deploy", HAAT_DATA_DIR=str(tmp_path), **production)
    assert "orders.W001" in nowhere.stdout + nowhere.stderr


def test_beat_sends_the_schedule(tmp_path, redis_url):
    """`celery -A haat beat` sends every periodic job, the sweep at its configured period."""
    broker = redis_url.rsplit("/", 1)[0] + "/9"
    queue = redis.Redis.from_url(broker)
    queue.flushdb()
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "HAAT_ENV"}}
    env.update(
        REDIS_URL=broker,
        HAAT_DATA_DIR=str(tmp_path),
        RESERVATION_SWEEP_SECONDS="1",
        PAYMENT_RECONCILE_SECONDS="2",
        REFUND_RETRY_SECONDS="2",
        ORDER_MAIL_SWEEP_SECONDS="2",
        BACK_IN_STOCK_SWEEP_SECONDS="2",
        STORE_DELIVERY_SECONDS="2",
        STORE_RECONCILE_SECONDS="2",
    )
    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "haat", "beat", "-l", "INFO"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        sent: list[str] = []
        while time.monotonic() < deadline:
            sent = [
                json.loads(message)["headers"]["task"] for message in queue.lrange("celery", 0, -1)
            ]
            if sent.count("checkout.tasks.release_expired_reservations") >= 3 and len(
                set(sent)
            ) == len(PERIODIC):
                break
            time.sleep(0.25)
    finally:
        os.killpg(beat.pid, signal.SIGTERM)
        beat.wait(timeout=20)
        queue.flushdb()
    assert set(sent) == set(PERIODIC), sent
    # The sweep at its own, shorter period.
    assert sent.count("checkout.tasks.release_expired_reservations") > sent.count(
        "checkout.tasks.retry_due_refunds"
    )
    assert list(tmp_path.glob("celerybeat-schedule*"))  # beat's state in HAAT_DATA_DIR


PUBLISH_WHILE_REDIS_IS_AWAY = """
import time
from orders.tasks import send_order_mail
began = time.monotonic()
try:
    send_order_mail.delay(1)
except Exception as error:
    print(type(error).__name__, round(time.monotonic() - began, 2))
"""


def test_publishing_while_redis_is_away_fails_at_once_and_waits_for_no_result(tmp_path):
    """A web process hands tasks over and never reads their results. Before, each task it
    sent also subscribed to its result on Redis, and with Redis away that subscription was
    retried for 20 s inside the request, then raised (a 500 for an order already paid)."""
    with socket.socket() as probe:  # a port of this machine that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = manage(
        "shell", "-c", PUBLISH_WHILE_REDIS_IS_AWAY,
        REDIS_URL=f"redis://127.0.0.1:{port}/8", HAAT_DATA_DIR=str(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    error, seconds = result.stdout.split()[-2:]
    assert error == "OperationalError"  # kombu's: the broker refused; callers catch it
    assert float(seconds) < 3


def test_task_results_are_not_kept(tmp_path):
    shown = manage(
        "shell", "-c", "from haat.celery import app; print(app.conf.task_ignore_result)",
        REDIS_URL="redis://127.0.0.1:6379/8", HAAT_DATA_DIR=str(tmp_path),
    )  # fmt: skip
    assert shown.stdout.split()[-1] == "True", shown.stderr
