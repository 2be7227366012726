"""`make test`: the whole suite, on SQLite and on PostgreSQL.

1. SQLite (the zero-setup default): everything except the PostgreSQL-only tests, including the
   browser tests, ruff and mypy.
2. PostgreSQL: every database test again, plus the concurrency tests that need real row locks.
   It uses $TEST_DATABASE_URL, else the server on 127.0.0.1:5432 (database `test`), else it starts
   a throwaway server from the `pgserver` wheel. PostgreSQL tests are never skipped.
3. PostgreSQL + Sanity: the whole storefront suite (browser tests included) with
   STORE_BACKEND=sanity against the local Sanity stand-in.

A run that collects no test is a failure. Extra arguments are passed to both pytest runs.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTEST = [sys.executable, "-m", "pytest"]
LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/test"


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def postgres_url(stack: list) -> str:
    if os.environ.get("TEST_DATABASE_URL"):
        return os.environ["TEST_DATABASE_URL"]
    if port_open("127.0.0.1", 5432):
        import psycopg

        try:
            psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=3).close()
            return LOCAL_POSTGRES
        except psycopg.OperationalError as error:
            print(f"PostgreSQL on 127.0.0.1:5432 refused us ({error}); starting a throwaway one.")
    import pgserver

    data = Path(tempfile.mkdtemp(prefix="haat-pg-"))
    server = pgserver.get_server(data, cleanup_mode="delete")
    stack.append(server)
    uri = server.get_uri("postgres")
    print(f"Started a throwaway PostgreSQL (pgserver) in {data}")
    return uri.replace("postgresql://", "postgres://", 1)


def run(label: str, args: list[str], env: dict[str, str]) -> int:
    print(f"\n=== {label} ===", flush=True)
    started = time.monotonic()
    code = subprocess.call(PYTEST + args, cwd=ROOT, env=env)
    print(f"=== {label}: exit {code} in {time.monotonic() - started:.0f} s ===", flush=True)
    if code == 5:
        print(f"{label}: no tests were collected; that is a failure.")
        return 1
    return code


def marks(expression: str) -> list[str]:
    """Select tests; the cluster tests (tests/cluster/) never: `make test-cluster` runs them."""
    return ["-m", f"({expression}) and not cluster"]


def main() -> int:
    extra = sys.argv[1:]
    base_env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "HAAT_ENV"}}
    servers: list = []
    failures = 0
    failures += run("SQLite", [*marks("not postgres"), *extra], base_env) != 0
    # A test database of this run's own: two `make test` runs on one server don't collide.
    pg_env = dict(
        base_env,
        DATABASE_URL=postgres_url(servers),
        TEST_DATABASE_NAME=os.environ.get("TEST_DATABASE_NAME", f"test_haat_{os.getpid()}"),
    )
    failures += run("PostgreSQL", [*marks("not browser and not quality"), *extra], pg_env) != 0
    # The whole storefront again with STORE_BACKEND=sanity, against the local stand-in for
    # Sanity's HTTP API (Node: groq-js + @sanity/mutator), on PostgreSQL for the concurrency tests.
    sanity_env = dict(pg_env, HAAT_TEST_STORE="sanity")
    failures += (
        run("PostgreSQL + Sanity stand-in", [*marks("not quality"), *extra], sanity_env) != 0
    )
    for server in servers:
        server.cleanup()
    print("\nAll test runs passed." if not failures else f"\n{failures} test run(s) failed.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
