"""PostgreSQL connections as the settings make them: lock and statement timeouts from the
environment, and psycopg's pool (on by default in production) bounding the connections."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings

from tests.manage_process import manage

pytestmark = pytest.mark.postgres

PRODUCTION = {
    "HAAT_ENV": "production",
    "SECRET_KEY": "x" * 20 + "a-long-random-production-secret-value-0123456789",
    "ALLOWED_HOSTS": "shop.example.com",
    "PAYMENT_GATEWAY": "test",
    "ALLOW_TEST_PAYMENTS_IN_PRODUCTION": "true",
}


def shell(script: str, tmp_path, **env: str) -> str:
    # The server's own database ("postgres" is always there): these only look at sessions.
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/postgres"
    result = manage(
        "shell",
        "-c",
        script,
        DATABASE_URL=env.pop("DATABASE_URL", url),
        HAAT_DATA_DIR=str(tmp_path),
        **env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


SHOW_TIMEOUTS = (
    "from django.db import connection\n"
    "c = connection.cursor()\n"
    "c.execute('SHOW lock_timeout'); lock = c.fetchone()[0]\n"
    "c.execute('SHOW statement_timeout'); statement = c.fetchone()[0]\n"
    "print(lock, statement)\n"
)


def test_default_timeouts_reach_postgresql(tmp_path):
    assert shell(SHOW_TIMEOUTS, tmp_path) == "5s 15s"


def test_timeouts_come_from_the_environment(tmp_path):
    answer = shell(
        SHOW_TIMEOUTS,
        tmp_path,
        DATABASE_LOCK_TIMEOUT_MS="1234",
        DATABASE_STATEMENT_TIMEOUT_MS="4321",
    )
    assert answer == "1234ms 4321ms"


def test_zero_turns_a_timeout_off(tmp_path):
    assert shell(SHOW_TIMEOUTS, tmp_path, DATABASE_STATEMENT_TIMEOUT_MS="0") == "5s 0"


def test_options_from_the_database_url_are_kept(tmp_path):
    db = settings.DATABASES["default"]
    url = (
        f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/postgres"
        "?options=-c%20idle_in_transaction_session_timeout%3D7000"
    )
    script = SHOW_TIMEOUTS + (
        "c.execute('SHOW idle_in_transaction_session_timeout'); print(c.fetchone()[0])\n"
    )
    assert shell(script, tmp_path, DATABASE_URL=url) == "7s"


def test_a_negative_timeout_is_a_clear_error(tmp_path):
    result = manage(
        "check",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres",
        DATABASE_LOCK_TIMEOUT_MS="-1",
        HAAT_DATA_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "must be 0 or more" in result.stderr


def test_production_pools_connections_and_development_keeps_them(tmp_path):
    script = (
        "from django.db import connection\n"
        "connection.ensure_connection()\n"
        "print(connection.pool is not None, connection.settings_dict['CONN_MAX_AGE'])\n"
    )
    assert shell(script, tmp_path, **PRODUCTION) == "True 0"
    assert shell(script, tmp_path) == "False 60"
    assert shell(script, tmp_path, DATABASE_POOL="true") == "True 0"
    assert shell(script, tmp_path, **PRODUCTION, DATABASE_POOL="false") == "False 60"


POOL_STORM = """
import os
from concurrent.futures import ThreadPoolExecutor
import psycopg
from django.db import connection

watch = psycopg.connect(os.environ["WATCH_URL"], autocommit=True)
seen = []

def one(_):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(0.05)")
        seen.append(watch.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            [os.environ["APP_NAME"]],
        ).fetchone()[0])
    finally:
        connection.close()
    return True

with ThreadPoolExecutor(16) as pool:
    answered = sum(pool.map(one, range(64)))
print(answered, max(seen))
"""


def test_the_pool_bounds_the_connections_of_a_process(tmp_path):
    """Sixteen threads query at once through a pool of two: all are answered, and PostgreSQL
    never sees more than two connections from this process."""
    name = f"haat-pool-test-{uuid.uuid4().hex[:8]}"
    db = settings.DATABASES["default"]
    server = f"{db['USER']}@{db['HOST']}:{db['PORT']}/postgres"
    answer = shell(
        POOL_STORM,
        tmp_path,
        DATABASE_URL=f"postgres://{server}?application_name={name}",
        DATABASE_POOL="true",
        DATABASE_POOL_MIN_SIZE="1",
        DATABASE_POOL_MAX_SIZE="2",
        WATCH_URL=f"postgresql://{server}",
        APP_NAME=name,
    )
    answered, most = (int(x) for x in answer.split())
    assert answered == 64
    assert 1 <= most <= 2


def test_pool_sizes_are_checked(tmp_path):
    result = manage(
        "check",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres",
        DATABASE_POOL="true",
        DATABASE_POOL_MIN_SIZE="5",
        DATABASE_POOL_MAX_SIZE="2",
        HAAT_DATA_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "DATABASE_POOL_MIN_SIZE must be at least 1" in result.stderr
