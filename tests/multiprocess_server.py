"""Real Haat servers for the accounts multi-process tests: gunicorn with several workers on 127.0.0.1.

``GunicornServer`` starts ``gunicorn haat.wsgi`` in its own process group on a free port of the
given range, waits until it answers, and stops it (that group only) when the ``with`` block
ends. It serves the test database of the running test (use transactional tests, so the rows
they create are committed and visible to the server's processes). Two servers on one database
and cache stand for two hosts.

    with GunicornServer(workers=3, env={"REDIS_URL": ...}) as server:
        httpx.get(server.url("/"))
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from django.db import connection

from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
START_TIMEOUT = 40.0
STOP_TIMEOUT = 15.0


def database_url_for_child() -> str:
    """The running test's database as a DATABASE_URL for a child process (PostgreSQL only)."""
    params = connection.settings_dict
    if connection.vendor != "postgresql":
        raise RuntimeError(
            "multi-process tests need PostgreSQL: the SQLite test database is in memory"
        )
    user = params.get("USER") or "postgres"
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{params['NAME']}"


class GunicornServer:
    def __init__(
        self,
        *,
        workers: int = 3,
        env: dict[str, str] | None = None,
    ) -> None:
        self.workers = workers
        self.extra_env = dict(env or {})
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        # Kept open for the server's lifetime; closed and removed in __exit__.
        self._log = tempfile.NamedTemporaryFile(prefix="haat-gunicorn-", delete=False)  # noqa: SIM115
        self._data_dir = tempfile.mkdtemp(prefix="haat-gunicorn-data-")

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def environment(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "REDIS_URL", "HAAT_ENV", "DJANGO_DEBUG"}
        }
        env.update(
            DATABASE_URL=database_url_for_child(),
            HAAT_DATA_DIR=self._data_dir,
            DJANGO_DEBUG="false",
            EMAIL_BACKEND="console",
            LOG_LEVEL="WARNING",
            DJANGO_SETTINGS_MODULE="tests.server_settings",
            # No periodic jobs in these servers (none of their tests wants them): a session's
            # servers would run them on the test database while another test's flush
            # truncates its tables (a deadlock seen on a loaded machine).
            HAAT_EMBEDDED_TICKER="false",
        )
        env.pop("TEST_DATABASE_NAME", None)
        env.update(self.extra_env)
        return env

    def start(self) -> GunicornServer:
        self.port = free_port()
        command = [
            str(GUNICORN),
            "haat.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--log-level",
            "warning",
            "--preload",  # import Django once, then fork: workers are ready at once
            "--no-control-socket",  # one shared default path would clash between servers
            "--graceful-timeout",
            "5",
        ]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.environment(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends exactly these processes
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start:\n{self.log()}")
            try:
                if httpx.get(self.url("/account/sign-in/"), timeout=2).status_code == 200:
                    self._wait_for_workers(deadline)
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {START_TIMEOUT:.0f} s:\n{self.log()}")

    def _wait_for_workers(self, deadline: float) -> None:
        """Every worker booted (each imports Django), so requests spread over all of them."""
        assert self.process is not None
        while time.monotonic() < deadline:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            if len(children.read_text().split()) >= self.workers:
                time.sleep(0.5)  # a forked worker takes a moment to load the application
                return
            time.sleep(0.1)

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT)
        except ProcessLookupError:
            pass

    def log(self) -> str:
        self._log.flush()
        return Path(self._log.name).read_text(errors="replace")[-6000:]

    def __enter__(self) -> GunicornServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)


class Browser:
    """A cookie-keeping HTTP client that sends each request on a new connection, so gunicorn's
    sync workers take turns at answering (no keep-alive pins it to one worker)."""

    def __init__(self, base_url: str, cookies: dict[str, str] | None = None) -> None:
        self.client = httpx.Client(
            base_url=base_url, headers={"Connection": "close"}, timeout=20, follow_redirects=False
        )
        for name, value in (cookies or {}).items():
            self.client.cookies.set(name, value)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def post_form(self, path: str, data: dict[str, str], page: str | None = None) -> httpx.Response:
        """POST a form the way a browser does: with the CSRF cookie from a page of the site."""
        if page is not None or "csrftoken" not in self.client.cookies:
            self.client.get(page or path)
        token = self.client.cookies.get("csrftoken", "")
        return self.client.post(
            path,
            data={**data, "csrfmiddlewaretoken": token},
            headers={"Referer": str(self.client.base_url)},
        )

    def post_json(self, path: str, body: Any) -> httpx.Response:
        if "csrftoken" not in self.client.cookies:
            self.client.get("/account/sign-in/")
        return self.client.post(
            path, json=body, headers={"X-CSRFToken": self.client.cookies.get("csrftoken") or ""}
        )

    def close(self) -> None:
        self.client.close()
