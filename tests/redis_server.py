"""Redis for the tests that run real Redis clients (Celery workers, gunicorn servers sharing a
cache): ``TEST_REDIS_URL`` if set, else a throwaway ``redis-server`` of this test process on a
free port of 127.0.0.1 (nothing kept on disk), stopped at the end of the session. The tests
empty their database, so it must be theirs alone: a shared server would let two pytest-xdist
workers, or two `make test` runs, empty each other's. Only without a redis-server binary is the
server on 127.0.0.1:6379 used (database 8; then one test run at a time)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from tests.ports import free_port

LOCAL = "redis://127.0.0.1:6379/8"


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@contextmanager
def redis_for_tests() -> Iterator[str]:
    url = os.environ.get("TEST_REDIS_URL", "")
    binary = shutil.which("redis-server") or next(
        (
            path
            for path in ("/usr/sbin/redis-server", "/usr/bin/redis-server")
            if os.path.exists(path)
        ),
        None,
    )
    if url or (binary is None and _answers(LOCAL)):
        yield url or LOCAL
        return
    if binary is None:
        raise RuntimeError(
            "These tests need Redis: set TEST_REDIS_URL, run Redis on 127.0.0.1:6379, "
            "or install redis-server (apt-get install redis-server)."
        )
    port = free_port()
    server = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        url = f"redis://127.0.0.1:{port}/8"
        deadline = time.monotonic() + 10
        while not _answers(url):
            if time.monotonic() > deadline:
                raise RuntimeError("the throwaway redis-server did not start")
            time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
