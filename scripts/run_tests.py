"""`make test`: every test, each on the backends where it matters, plus ruff and mypy.

Three pytest passes, each spread over pytest-xdist workers (HAAT_TEST_WORKERS, default: one
per CPU), while ruff, mypy and the tests marked `quality` (whole-code-base checks such as the
import contracts) run beside them as processes of their own:

1. PostgreSQL, every test (tests/cluster/ excepted: `make test-cluster` runs those). It uses
   $TEST_DATABASE_URL, else the server on 127.0.0.1:5432 (database `test`), else a throwaway
   server from the `pgserver` wheel. PostgreSQL tests are never skipped.
2. SQLite, the zero-setup default: the tests marked `sqlite` (the database layer's SQL, the
   database cache, migrations; tests/conftest.py says which).
3. PostgreSQL with the Sanity store (the local stand-in for Sanity's HTTP API): the tests
   marked `store` (stock, carts, wishlists and what goes through them; tests/conftest.py).

Every run names its own test databases (test_haat_<pid>_<random>, one per xdist worker), so two
runs on one PostgreSQL server never touch each other's. A pass that collects no test is a
failure. Extra arguments go to every pytest pass, e.g. `make test ARGS="-k cart"`; `--pass
sqlite` (or postgresql, sanity, checks; repeatable) runs only those.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/test"
# Left out of the pytest passes: tests/cluster/ (`make test-cluster` runs them) and the tests
# marked `quality` (whole-code-base checks, run below beside the passes).
LEFT_OUT = "not cluster and not quality"
CHECKS = {
    "ruff check": [str(BIN / "ruff"), "check", "."],
    "ruff format": [str(BIN / "ruff"), "format", "--check", "."],
    "mypy": [str(BIN / "mypy"), "."],
    # Other whole-code-base checks written as tests (e.g. import contracts), in one process.
    "quality tests": [
        sys.executable,
        "-m",
        "pytest",
        "-m",
        "quality",
        "-p",
        "no:cacheprovider",
        "-q",
    ],
}


@dataclass
class Pass:
    name: str
    marks: str
    env: dict[str, str]
    code: int = 0
    seconds: float = 0.0


@dataclass
class Check:
    name: str
    command: list[str]
    code: int = 0
    seconds: float = 0.0
    output: str = ""
    thread: threading.Thread | None = None

    def run(self, env: dict[str, str]) -> None:
        started = time.monotonic()
        done = subprocess.run(
            self.command, cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        # pytest's 5: no test is marked quality, nothing to check.
        self.code = 0 if done.returncode == 5 and "pytest" in self.command else done.returncode
        self.output = (done.stdout + done.stderr).strip()
        self.seconds = time.monotonic() - started


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


def base_environment() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "HAAT_ENV", "HAAT_TEST_STORE", "TEST_DATABASE_NAME"}
    }
    if env.pop("PYTHONDONTWRITEBYTECODE", None):
        # Without bytecode every test process (xdist workers, and the servers and manage.py
        # commands the tests start) compiles Django, hypothesis and the rest again: about 4x
        # the CPU of a cached start. Keep it out of the source tree instead.
        env.setdefault("PYTHONPYCACHEPREFIX", str(ROOT / ".venv" / "pycache"))
    return env


def run_pass(test_pass: Pass, extra: list[str], workers: str) -> None:
    print(f"\n=== {test_pass.name} ===", flush=True)
    started = time.monotonic()
    command = [sys.executable, "-m", "pytest", "-m", f"({test_pass.marks}) and {LEFT_OUT}"]
    if workers not in {"0", "1"}:
        command += ["-n", workers, "--dist", "loadgroup"]
    test_pass.code = subprocess.call([*command, *extra], cwd=ROOT, env=test_pass.env)
    test_pass.seconds = time.monotonic() - started
    if test_pass.code == 5:
        print(f"{test_pass.name}: no tests were collected; that is a failure.")
        test_pass.code = 1
    print(
        f"=== {test_pass.name}: exit {test_pass.code} in {test_pass.seconds:.0f} s ===", flush=True
    )


def start_checks(env: dict[str, str]) -> list[Check]:
    """ruff and mypy, each its own process beside the tests; their output is kept."""
    checks = [Check(name, command) for name, command in CHECKS.items()]
    for check in checks:
        check.thread = threading.Thread(target=check.run, args=(env,), daemon=True)
        check.thread.start()
    return checks


def finish_checks(checks: list[Check]) -> int:
    failures = 0
    for check in checks:
        assert check.thread is not None
        check.thread.join()
        print(f"\n=== {check.name}: exit {check.code} in {check.seconds:.0f} s ===")
        if check.code != 0:
            failures += 1
            print(check.output)
    return failures


def main() -> int:
    extra, only = [], set()
    arguments = iter(sys.argv[1:])
    for argument in arguments:
        if argument == "--pass":
            only.add(next(arguments))
        else:
            extra.append(argument)

    def wanted(name: str) -> bool:
        return not only or name in only

    workers = os.environ.get("HAAT_TEST_WORKERS", "auto")
    started_at = time.monotonic()
    base_env = base_environment()
    servers: list = []
    checks = start_checks(base_env) if wanted("checks") else []
    pg_env = dict(
        base_env,
        DATABASE_URL=postgres_url(servers),
        # This run's own test database name (xdist workers add _gw0, _gw1, ...).
        TEST_DATABASE_NAME=os.environ.get(
            "TEST_DATABASE_NAME", f"test_haat_{os.getpid()}_{secrets.token_hex(3)}"
        ),
    )
    passes = [
        Pass("PostgreSQL: every test", "postgres or not postgres", pg_env),
        Pass("SQLite: the tests marked sqlite", "sqlite and not postgres", base_env),
        Pass(
            "PostgreSQL + Sanity stand-in: the tests marked store",
            "store",
            dict(pg_env, HAAT_TEST_STORE="sanity"),
        ),
    ]
    keys = ["postgresql", "sqlite", "sanity"]
    chosen = [p for key, p in zip(keys, passes, strict=True) if wanted(key)]
    for test_pass in chosen:
        run_pass(test_pass, extra, workers)
    failures = sum(p.code != 0 for p in chosen) + finish_checks(checks)
    for server in servers:
        server.cleanup()
    print("\nSummary:")
    for test_pass in chosen:
        outcome = "passed" if test_pass.code == 0 else f"FAILED (exit {test_pass.code})"
        print(f"  {test_pass.name}: {outcome} in {test_pass.seconds:.0f} s")
    print(f"  total {time.monotonic() - started_at:.0f} s")
    print("\nAll test runs passed." if not failures else f"\n{failures} test run(s) failed.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
