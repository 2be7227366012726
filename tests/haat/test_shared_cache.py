"""The cache behind sessions and limits is shared: Redis with REDIS_URL, else the database.
Sessions survive a Redis outage (the database is the truth), and database-cache counters
lose no increment when many connections count at once."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import caches
from django.db import connection

from tests.manage_process import manage

SHOW = (
    "from django.conf import settings; "
    "print(settings.CACHES['default']['BACKEND'], settings.SESSION_ENGINE)"
)


def test_without_redis_sessions_and_cache_live_in_the_database(tmp_path):
    result = manage(
        "shell", "--no-imports", "-c", SHOW, drop_prefix="REDIS_", HAAT_DATA_DIR=str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "haat.cache.DatabaseCache",
        "django.contrib.sessions.backends.db",
    ]


def test_with_redis_url_redis_is_the_cache_and_sessions_are_cached_db(tmp_path):
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        SHOW,
        REDIS_URL="redis://127.0.0.1:6379/2",
        HAAT_DATA_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["haat.cache.RedisCache", "haat.sessions"]


def test_the_redis_cache_keeps_one_client_per_server():
    """Django's makes a client (and its table of reply parsers) for every call."""
    from haat.cache import RedisCache

    backend = RedisCache("redis://127.0.0.1:18199/2", {})._cache
    client = backend.get_client()
    assert backend.get_client("key") is client
    assert backend.get_client(write=True) is client


def test_bad_redis_timeout_is_a_clear_error(tmp_path):
    result = manage("check", REDIS_SOCKET_TIMEOUT="soon", HAAT_DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "REDIS_SOCKET_TIMEOUT must be a number" in result.stderr


@pytest.fixture
def redis_is_down(settings):
    """Redis configured but nothing listening: every cache call fails at once."""
    settings.CACHES = {
        "default": {
            "BACKEND": "haat.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:18199/2",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    settings.SESSION_ENGINE = "haat.sessions"
    yield
    caches["default"].close()


@pytest.mark.django_db
def test_sessions_keep_working_while_redis_is_down(redis_is_down, client, make_user):
    from tests.conftest import PASSWORD

    user = make_user("steady@example.com")
    signed_in = client.post("/account/sign-in/", {"username": user.email, "password": PASSWORD})
    assert signed_in.status_code == 302
    assert client.get("/api/cart").status_code == 200
    assert client.post("/account/sign-out/").status_code == 302
    assert client.get("/api/cart").status_code == 401


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_database_cache_counts_every_increment_from_many_connections():
    cache = caches["default"]
    cache.set("counter", 0, 60)
    start = threading.Barrier(8)

    def count() -> None:
        try:
            start.wait()
            for _ in range(25):
                cache.incr("counter")
        finally:
            connection.close()

    threads = [threading.Thread(target=count) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.get("counter") == 200


def test_the_redis_cache_builds_one_client_per_pool_and_still_works(redis_url):
    """Django builds a redis.Redis per call; Haat's backend reuses one, and counts, adds and
    reads as Django's does."""
    from haat.cache import RedisCache

    cache = RedisCache(redis_url, {"KEY_PREFIX": "t"})
    assert cache._cache.get_client(write=True) is cache._cache.get_client(write=False)
    assert cache.add("n", 1, 60)
    assert not cache.add("n", 5, 60)
    assert cache.incr("n") == 2
    cache.set("s", {"a": [1, 2]}, 60)
    assert cache.get_many(["n", "s", "x"]) == {"n": 2, "s": {"a": [1, 2]}}
    cache.delete_many(["n", "s"])
    assert cache.get("n") is None
