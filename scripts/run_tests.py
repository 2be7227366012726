"""`make test`: every test, each on the backends where it matters, plus ruff and mypy.

Three pytest passes and the checks, run at the same time as far as the cores allow:

1. PostgreSQL, every test (tests/cluster/ excepted: `make test-cluster` runs those), spread
   over pytest-xdist workers (HAAT_TEST_WORKERS, default: one per CPU and one more). It uses
   $TEST_DATABASE_URL, else the server on 127.0.0.1:5432 (database `test`), else a throwaway
   server from the `pgserver` wheel. PostgreSQL tests are never skipped.
2. SQLite, the zero-setup default: the tests marked `sqlite` (the database layer's SQL, the
   database cache, migrations; tests/conftest.py says which).
3. PostgreSQL with the Sanity store (the local stand-in for Sanity's HTTP API): the tests
   marked `store` (what the store interface itself does: the cart and wishlist services, API,
   property and concurrency tests; tests/conftest.py).

Passes 2 and 3 are small: they run one after the other in one process beside pass 1, and
ruff, mypy and the tests marked `quality` (whole-code-base checks such as the import
contracts) run beside them too, each a process of its own. Each pass's and check's output is
kept and printed whole when it ends (never interleaved), and a summary closes the run.

Every run names its own test databases (test_haat_<pid>_<random>, one per xdist worker, and
_sanity for pass 3), so two runs, or two passes, on one PostgreSQL server never touch each
other's; each is cloned from a migrated template database (migrated_template) rather than
migrated from empty. A pass that collects no test is a failure, as is any failing pass or check. Extra
arguments go to every pytest pass, e.g. `make test ARGS="-k cart"`; `--pass sqlite` (or
postgresql, sanity, checks; repeatable) runs only those.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import os
import re
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.backends import files_for  # noqa: E402  (the path rules of the marks, no Django)

BIN = Path(sys.executable).parent
LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/test"
# Left out of the pytest passes: tests/cluster/ (`make test-cluster` runs them) and the tests
# marked `quality` (whole-code-base checks, run below beside the passes).
LEFT_OUT = "not cluster and not quality"
# mypy keeps its cache outside the checkout, in the user's cache folder: a fresh clone then
# checks only what differs from the last run on this machine (6 s of CPU instead of 60 cold).
# mypy uses an entry only while its source file is unchanged.
MYPY_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "haat" / "mypy"
CHECKS = {
    "ruff check": [str(BIN / "ruff"), "check", "."],
    "ruff format": [str(BIN / "ruff"), "format", "--check", "."],
    "mypy": [str(BIN / "mypy"), "--cache-dir", str(MYPY_CACHE), "."],
    # Other whole-code-base checks written as tests (e.g. import contracts), in one process.
    # They live in tests/quality/ (tests/conftest.py refuses the mark elsewhere), so only that
    # folder is collected: collecting the whole suite costs about 20 s of CPU.
    "quality tests": [
        sys.executable,
        "-m",
        "pytest",
        "-m",
        "quality",
        "-p",
        "no:cacheprovider",
        "-q",
        "tests/quality",
    ],
}
# pytest's last line, e.g. "== 1 failed, 1043 passed, 4 skipped in 374.20s =="
PYTEST_TOTALS = re.compile(r"^=+ (.*\b(?:passed|failed|error|errors|skipped|deselected)\b.*) in ")
PRINTING = threading.Lock()


@dataclass
class Run:
    """One pass or check: a command whose output is kept and printed whole when it ends."""

    name: str
    command: list[str]
    env: dict[str, str]
    pytest_pass: bool = False
    code: int = 0
    seconds: float = 0.0
    totals: str = ""
    output: str = field(default="", repr=False)

    def run(self) -> None:
        started = time.monotonic()
        with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as log:
            self.code = subprocess.call(
                self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
            log.seek(0)
            self.output = log.read().rstrip()
        self.seconds = time.monotonic() - started
        totals = [
            m.group(1) for line in self.output.splitlines() if (m := PYTEST_TOTALS.match(line))
        ]
        self.totals = totals[-1] if totals else ""
        if self.code == 5 and self.pytest_pass:
            self.output += f"\n{self.name}: no tests were collected; that is a failure."
            self.code = 1
        elif self.code == 5 and "pytest" in self.command:
            self.code = 0  # no test is marked quality: nothing to check
        with PRINTING:
            print(f"\n=== {self.name} ===\n{self.output}", flush=True)
            print(f"=== {self.name}: exit {self.code} in {self.seconds:.0f} s ===", flush=True)

    @property
    def outcome(self) -> str:
        state = "passed" if self.code == 0 else f"FAILED (exit {self.code})"
        return f"{state} in {self.seconds:.0f} s" + (f" ({self.totals})" if self.totals else "")


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


TEMPLATE_PREFIX = "haat_template_"
TEMPLATES_KEPT = 4


def migrated_template(database_url: str, env: dict[str, str]) -> str:
    """A PostgreSQL database with every migration applied, which each test database of the run
    is cloned from (TEST_DATABASE_TEMPLATE) instead of migrating from empty: migrating costs each
    pytest process seconds at its start, and the server more. It is named by a digest of the
    migration files and Django's version, so a changed migration gets a new one; it is built once
    per machine under an advisory lock (two runs at once build it once), and the few newest are
    kept for other checkouts."""
    import psycopg

    digest = hashlib.sha256(importlib.metadata.version("django").encode())
    for migration in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(migration.relative_to(ROOT).as_posix().encode() + migration.read_bytes())
    name = TEMPLATE_PREFIX + digest.hexdigest()[:16]
    server = database_url.rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute("SELECT pg_advisory_lock(hashtext('haat test template'))")
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            building = f"{name}_building"
            admin.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{building}"')
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
                cwd=ROOT,
                env=dict(env, DATABASE_URL=f"{server}/{building}", HAAT_ENV="development"),
                check=True,
            )
            admin.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
            older = admin.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s AND datname <> %s "
                "AND datname NOT LIKE %s ORDER BY oid DESC OFFSET %s",
                (TEMPLATE_PREFIX + "%", name, "%_building", TEMPLATES_KEPT - 1),
            ).fetchall()
            for (old,) in older:
                with contextlib.suppress(psycopg.Error):  # in use by another run: kept
                    admin.execute(f'DROP DATABASE "{old}"')
        admin.execute("SELECT pg_advisory_unlock(hashtext('haat test template'))")
    return name


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


def pytest_command(
    marks: str, workers: str, extra: list[str], files: list[str] | None = None
) -> list[str]:
    command = [sys.executable, "-m", "pytest", "-m", f"({marks}) and {LEFT_OUT}"]
    if workers not in {"0", "1"}:
        command += ["-n", workers, "--dist", "loadgroup"]
    # A small pass collects only the files its mark can reach (tests/backends.py), unless the
    # arguments name what to run.
    named = any(argument.startswith("tests") for argument in extra)
    return [*command, *extra, *([] if named or files is None else files)]


def run_lanes(lanes: list[list[Run]]) -> None:
    """Each lane in a thread of its own, its runs one after the other."""

    def run_lane(lane: list[Run]) -> None:
        for item in lane:
            item.run()

    threads = [threading.Thread(target=run_lane, args=(lane,)) for lane in lanes if lane]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


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

    # One worker more than the CPUs: a third of pass 1's time is spent waiting on servers,
    # subprocesses, Chromium and PostgreSQL, which another worker fills (2 cores, loaded
    # machine: 910 s with 2 workers, 750 s with 3).
    workers = os.environ.get("HAAT_TEST_WORKERS", str((os.cpu_count() or 1) + 1))
    # Passes 2 and 3 are small: one process each beside pass 1's workers, or the workers when
    # pass 1 does not run.
    side_workers = "0" if wanted("postgresql") else workers
    started_at = time.monotonic()
    base_env = base_environment()
    servers: list = []
    needs_postgres = wanted("postgresql") or wanted("sanity")
    pg_env = dict(base_env, DATABASE_URL=postgres_url(servers)) if needs_postgres else base_env
    if needs_postgres:
        pg_env["TEST_DATABASE_TEMPLATE"] = migrated_template(pg_env["DATABASE_URL"], base_env)
    # This run's own test database names (xdist workers add _gw0, _gw1, ...).
    database = os.environ.get(
        "TEST_DATABASE_NAME", f"test_haat_{os.getpid()}_{secrets.token_hex(3)}"
    )
    postgresql = Run(
        "PostgreSQL: every test",
        pytest_command("postgres or not postgres", workers, extra),
        dict(pg_env, TEST_DATABASE_NAME=database),
        pytest_pass=True,
    )
    sqlite = Run(
        "SQLite: the tests marked sqlite",
        pytest_command("sqlite and not postgres", side_workers, extra, files_for("sqlite", ROOT)),
        base_env,
        pytest_pass=True,
    )
    sanity = Run(
        "PostgreSQL + Sanity stand-in: the tests marked store",
        pytest_command("store", side_workers, extra, files_for("store", ROOT)),
        dict(pg_env, TEST_DATABASE_NAME=f"{database}_sanity", HAAT_TEST_STORE="sanity"),
        pytest_pass=True,
    )
    passes = [
        p
        for key, p in (("postgresql", postgresql), ("sqlite", sqlite), ("sanity", sanity))
        if wanted(key)
    ]
    checks = [Run(name, command, base_env) for name, command in CHECKS.items() if wanted("checks")]
    print(
        "Running at once, output of each printed when it ends: "
        + ", ".join(r.name for r in [*passes, *checks]),
        flush=True,
    )
    side = [p for p in passes if p is not postgresql]
    lanes = [[postgresql] if postgresql in passes else [], side, *([c] for c in checks)]
    try:
        run_lanes(lanes)
    finally:
        for server in servers:
            server.cleanup()
    failures = [r for r in [*passes, *checks] if r.code != 0]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print("\nSummary:")
    for item in [*passes, *checks]:
        print(f"  {item.name}: {item.outcome}")
    print(
        f"  total {time.monotonic() - started_at:.0f} s, "
        f"CPU {children.ru_utime + children.ru_stime:.0f} s (user + sys of every process)"
    )
    print(
        "\nAll test runs passed."
        if not failures
        else f"\n{len(failures)} run(s) failed: {', '.join(r.name for r in failures)}"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
