"""Helpers for the accounts tests that run against real gunicorn servers."""

from __future__ import annotations

import pytest

from accounts.models import User
from tests.multiprocess_server import Browser

SERVER_PASSWORD = "a-server-side-passphrase-31"


# Small limits, so that the tests reach them quickly (the rules are the production ones).
SERVER_LIMITS = {
    "SIGN_IN_FAILURE_LIMIT": "5",
    "SIGN_IN_IP_FAILURE_LIMIT": "40",
    "RATE_LIMIT_SIGN_UP_IP": "5/h",
    "RATE_LIMIT_CART_WRITES": "12/h",
}


def flush_test_redis(url: str) -> None:
    """Empty the test run's own Redis database (the ``redis_url`` fixture)."""
    import redis

    redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()


def cache_modes() -> list:
    """Parameters for a server fixture: with Redis as the shared cache, and without it."""
    return [pytest.param("redis", id="redis"), pytest.param("database", id="database")]


def make_server_user(email: str, password: str = SERVER_PASSWORD, **extra) -> User:
    # The servers hash as the test process does (tests/server_settings.py).
    return User.objects.create_user(email=email, password=password, **extra)


def sign_in(
    browser: Browser,
    email: str,
    password: str = SERVER_PASSWORD,
    path: str = "/account/sign-in/",
    expect: int | None = 302,
):
    response = browser.post_form(path, {"username": email, "password": password})
    if expect is not None:
        assert response.status_code == expect, response.text[:2000]
    return response
