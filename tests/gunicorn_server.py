"""Start Haat under gunicorn (several worker processes) against the test database, for tests
that need real concurrency between processes rather than Django's test client.

Use it from a transactional test (``django_db(transaction=True)``) on PostgreSQL, so what the
test writes is committed and the workers see it::

    with GunicornServer(workers=3) as server:
        httpx.post(server.url + "/api/checkout", ...)

The server listens on 127.0.0.1 only, on a free port (tests/ports.py). It is stopped by its own pid (and its
process group, which holds only its workers) when the block ends, however the block ends."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings
from django.db import connection
from django.middleware.csrf import CSRF_ALLOWED_CHARS
from django.test import Client
from django.utils.crypto import get_random_string

from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
# Settings the workers must share with the test process: the session signing key, and where
# stock, carts and wishlists live (HAAT_TEST_STORE=sanity points each test at its own dataset).
FORWARDED_SETTINGS = (
    "SECRET_KEY",
    "STORE_BACKEND",
    "SANITY_API_HOST",
    "SANITY_PROJECT_ID",
    "SANITY_DATASET",
    "SANITY_API_VERSION",
    "SANITY_TOKEN",
    "SANITY_MAX_ATTEMPTS",
    "PAYMENT_GATEWAY",
    "TEST_GATEWAY_WEBHOOK_SECRET",
    "CHECKOUT_RESERVATION_MINUTES",
    "CHECKOUT_MAX_UNITS_PER_PRODUCT",
    "CART_MAX_LINE_QUANTITY",
)


def database_url_of_test_run() -> str:
    """The URL of the database this test run uses (the test database, not the configured one)."""
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        raise RuntimeError("GunicornServer needs PostgreSQL (SQLite would serialise everything)")
    user = quote(db.get("USER") or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{db['NAME']}"


class GunicornServer:
    def __init__(
        self,
        *,
        workers: int = 3,
        threads: int = 4,
        env: dict[str, str] | None = None,
        start_timeout: float = 60,
    ) -> None:
        self.workers, self.threads = workers, threads
        self.extra_env = env or {}
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.url = ""
        self._log = Path(tempfile.mkstemp(prefix="haat-gunicorn-", suffix=".log")[1])

    def environment(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "TEST_DATABASE_NAME"}
        }
        for name in FORWARDED_SETTINGS:
            value = getattr(settings, name, None)
            if value is not None and value != "":
                env[name] = str(value)
        env.update(
            HAAT_ENV="development",
            DJANGO_DEBUG="false",
            ALLOWED_HOSTS="127.0.0.1",
            DATABASE_URL=database_url_of_test_run(),
            LOG_LEVEL="WARNING",
            DJANGO_SETTINGS_MODULE="tests.server_settings",
            # No periodic jobs in these servers (none of their tests wants them): a session's
            # servers would run them on the test database while another test's flush
            # truncates its tables (a deadlock seen on a loaded machine).
            HAAT_EMBEDDED_TICKER="false",
        )
        env.update(self.extra_env)
        return env

    def start(self) -> GunicornServer:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "haat.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),
            # Loaded once before forking, so every worker is ready as soon as it exists.
            "--preload",
            # gunicorn's control socket has one default path (~/.gunicorn/gunicorn.ctl), which
            # servers of other xdist workers or test runs would take over.
            "--no-control-socket",
            "--timeout",
            "60",
            "--log-level",
            "info",
            "--error-logfile",
            str(self._log),
        ]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.environment(), start_new_session=True
        )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if self.log().count("Booting worker") >= self.workers and self._answers():
                return self
            time.sleep(0.2)
        log = self.log()
        self.stop()
        raise RuntimeError(f"gunicorn did not start within {self.start_timeout} s:\n{log}")

    def _answers(self) -> bool:
        try:
            httpx.get(f"{self.url}/account/sign-in/", timeout=5)
        except httpx.HTTPError:
            return False
        return True

    def log(self) -> str:
        return self._log.read_text(errors="replace") if self._log.exists() else ""

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            # TERM to the master: it stops its own workers, then exits.
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # our own group: master and its workers
                process.wait(timeout=10)
        self._log.unlink(missing_ok=True)

    def __enter__(self) -> GunicornServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if error is not None:
            print(self.log()[-4000:])  # shown by pytest with the failure
        self.stop()


def signed_in_cookies(user: Any) -> tuple[dict[str, str], str]:
    """Cookies of a signed-in session for ``user`` (stored in the test database, so every
    worker accepts it) and a CSRF token that goes with them (send it as ``X-CSRFToken`` or
    ``csrfmiddlewaretoken``)."""
    client = Client()
    client.force_login(user)
    csrf = get_random_string(32, CSRF_ALLOWED_CHARS)
    return {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf}, csrf
