"""Redis for the tests that run real Celery processes: ``TEST_REDIS_URL`` if set, else the
server on 127.0.0.1:6379 (database 8), else a throwaway ``redis-server`` on a free port of
127.0.0.1 (nothing kept on disk), stopped at the end of the session."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

LOCAL = "redis://127.0.0.1:6379/8"


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _free_port() -> int:
    for port in range(18600, 18650):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18600-18649 for a throwaway Redis")


@contextmanager
def redis_for_tests() -> Iterator[str]:
    url = os.environ.get("TEST_REDIS_URL", "")
    if url or _answers(LOCAL):
        yield url or LOCAL
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError(
            "These tests need Redis: set TEST_REDIS_URL, run Redis on 127.0.0.1:6379, "
            "or install redis-server (apt-get install redis-server)."
        )
    port = _free_port()
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
