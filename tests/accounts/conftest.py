from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.accounts.clerk_helpers import ISSUER, PARTY, PUBLISHABLE_KEY, keypair
from tests.accounts.multiprocess import SERVER_LIMITS, cache_modes, flush_test_redis
from tests.multiprocess_server import GunicornServer


@pytest.fixture
def clerk(settings):
    settings.AUTH_PROVIDER = "clerk"
    settings.CLERK_JWT_KEY = keypair()[1]
    settings.CLERK_ISSUER = ISSUER
    settings.CLERK_AUTHORIZED_PARTIES = [PARTY]
    settings.CLERK_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.CLERK_WEBHOOK_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    return settings


@pytest.fixture(scope="session", params=cache_modes())
def hosts(request, django_db_setup) -> Iterator[tuple[GunicornServer, GunicornServer]]:
    """Two gunicorn servers of 3 workers each ("two hosts") on the test database, sharing
    Redis (REDIS_URL) or, without it, the database cache. Shared by the multi-process tests."""
    env = dict(SERVER_LIMITS)
    if request.param == "redis":
        env["REDIS_URL"] = request.getfixturevalue("redis_url")
        flush_test_redis(env["REDIS_URL"])
    with GunicornServer(workers=3, env=env) as first, GunicornServer(workers=3, env=env) as second:
        first.redis = env.get("REDIS_URL")  # type: ignore[attr-defined]
        yield first, second


@pytest.fixture
def fresh_hosts(hosts, transactional_db) -> tuple[GunicornServer, GunicornServer]:
    """The servers with empty counters (the database cache is emptied by tests/conftest.py)."""
    if getattr(hosts[0], "redis", None):
        flush_test_redis(hosts[0].redis)
    return hosts
