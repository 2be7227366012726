"""Database connections under gunicorn: persistent connections vs psycopg's pool (vs PgBouncer).

Starts Haat in production mode on 127.0.0.1, one server per configuration (ports 18431+), and
drives two endpoints flat out (no pause between requests) for a bounded time each, the
configurations taking turns over several rounds: ``GET /api/cart`` (session, user
and cart reads) and ``POST /api/cart/lines`` (one write transaction). Prints requests/s, p50,
p99 and how many PostgreSQL connections the server held, and writes bench/results/pool.md.

    .venv/bin/python bench/pool.py                 # about 5 minutes
    .venv/bin/python bench/pool.py --rounds 1      # shorter

Configurations: ``persistent`` (CONN_MAX_AGE=60, one connection per worker thread),
``pool`` (DATABASE_POOL=true: psycopg_pool per worker process) and, when the ``pgbouncer``
binary is installed, ``pgbouncer`` (transaction mode in front of PostgreSQL, persistent
connections to PgBouncer). Each runs under two server shapes: sync workers and gthread
workers with several threads. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("haat_bench_run", ROOT / "bench" / "run.py")
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench  # dataclasses look their module up there
_spec.loader.exec_module(bench)

SERVER_PORT = 18431
PGBOUNCER_PORT = 18449
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
DATABASE_NAME = "haat_bench_pool"
BOUNCER_APPLICATION = "haat-bench-pgbouncer"


def fresh_database() -> str:
    with psycopg.connect(bench.LOCAL_PG, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE_NAME}")
    return f"postgres://postgres@127.0.0.1:5432/{DATABASE_NAME}"


def start_pgbouncer(folder: Path) -> subprocess.Popen | None:
    if not Path(PGBOUNCER).exists():
        return None
    # PgBouncer will not run as root: it switches to the postgres user, who must own its files.
    shutil.chown(folder, "postgres")
    ini = folder / "pgbouncer.ini"
    (folder / "users.txt").write_text('"postgres" ""\n')
    ini.write_text(
        f"""[databases]
{DATABASE_NAME} = host=127.0.0.1 port=5432 dbname={DATABASE_NAME} user=postgres application_name={BOUNCER_APPLICATION}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {PGBOUNCER_PORT}
unix_socket_dir =
auth_type = trust
auth_file = {folder / "users.txt"}
pool_mode = transaction
default_pool_size = 8
max_client_conn = 200
; PgBouncer refuses the startup parameter that carries Haat's lock and statement timeouts:
; with PgBouncer they must be set on the role instead (ALTER ROLE ... SET lock_timeout ...).
ignore_startup_parameters = extra_float_digits,options
logfile = {folder / "pgbouncer.log"}
"""
    )
    process = subprocess.Popen(
        [PGBOUNCER, "-u", "postgres", str(ini)],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            url = f"postgresql://postgres@127.0.0.1:{PGBOUNCER_PORT}/{DATABASE_NAME}"
            psycopg.connect(url, connect_timeout=2).close()
            return process
        except psycopg.OperationalError:
            time.sleep(0.2)
    process.kill()
    return None


def connections_held(application: str) -> int:
    """PostgreSQL connections open for one server (each names itself with application_name)."""
    with psycopg.connect(bench.LOCAL_PG, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
            [DATABASE_NAME, application],
        ).fetchone()
    return int(row[0]) if row else 0


async def drive(
    base: str, setup: dict[str, Any], kind: str, concurrency: int, seconds: float
) -> Any:
    stats = bench.Stats()
    shoppers = [bench.Shopper(s) for s in setup["shoppers"][:concurrency]]
    limits = httpx.Limits(max_connections=concurrency + 4, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0) as client:
        stats.started = time.perf_counter()
        deadline = stats.started + seconds

        async def loop(index: int) -> None:
            shopper = shoppers[index % len(shoppers)]
            products = setup["cart_products"]
            n = index
            while time.perf_counter() < deadline:
                n += 1
                if kind == "read":
                    request = client.get("/api/cart", headers=shopper.headers())
                else:
                    body = json.dumps({"product_id": products[n % len(products)], "quantity": 1})
                    request = client.post(
                        "/api/cart/lines", content=body, headers=shopper.headers(True)
                    )
                await bench.timed(stats, kind, request)

        await asyncio.gather(*(loop(i) for i in range(concurrency)))
        stats.finished = time.perf_counter()
    return stats


def measure(
    base: str, application: str, setup: dict[str, Any], kind: str, concurrency: int, seconds: float
) -> dict[str, Any]:
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.5):
            peak[0] = max(peak[0], connections_held(application))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        stats = asyncio.run(drive(base, setup, kind, concurrency, seconds))
    finally:
        done.set()
        sampler.join(timeout=5)
    summary = stats.summary()
    return {
        "rps": round(summary["rps"], 1),
        "p50_ms": round(summary["p50_ms"], 1),
        "p99_ms": round(summary["p99_ms"], 1),
        "errors": summary["errors"],
        "statuses": summary["statuses"],
        "requests": summary["requests"],
        "pg_connections_peak": peak[0],
    }


def start_server(env: dict[str, str], port: int, workers: int, threads: int, log: Path) -> Any:
    """gunicorn on 127.0.0.1:port, its output in ``log``; stopped as a whole group on failure."""
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "haat.wsgi",
        *("--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads)),
        *("--backlog", "4096", "--log-level", "warning", "--no-control-socket"),
    ]
    with log.open("ab") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, start_new_session=True, stdout=output, stderr=output
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    bench.stop_server(process)
    raise SystemExit(f"gunicorn on port {port} did not start within 60 s; see {log}")


def median_row(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of the rounds, with the range of requests/s and p99 across them."""

    def mid(key: str) -> float:
        return round(statistics.median(cell[key] for cell in cells), 1)

    return {
        **{key: cells[0][key] for key in ("mode", "shape", "endpoint")},
        "rps": mid("rps"),
        "p50_ms": mid("p50_ms"),
        "p99_ms": mid("p99_ms"),
        "rps_range": [min(c["rps"] for c in cells), max(c["rps"] for c in cells)],
        "p99_range": [min(c["p99_ms"] for c in cells), max(c["p99_ms"] for c in cells)],
        "errors": sum(cell["errors"] for cell in cells),
        "pg_connections_peak": max(cell["pg_connections_peak"] for cell in cells),
    }


def render(results: dict[str, Any]) -> str:
    lines = [
        "# Database connections: persistent vs pool",
        "",
        f"{results['when']} · {results['cores']} cores shared with other work · "
        f"{results['concurrency']} concurrent clients, flat out · median of {results['rounds']} "
        f"interleaved rounds of {results['seconds']:.0f} s per cell (range in brackets) · "
        f"pool min {results['pool']['min_size']}, max {results['pool']['max_size']} per process "
        "· load generator on the same cores",
        "",
        "| connections | server | endpoint | req/s | p50 ms | p99 ms | errors | PostgreSQL connections (peak) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in results["rows"]:
        rps_low, rps_high = row["rps_range"]
        p99_low, p99_high = row["p99_range"]
        lines.append(
            f"| {row['mode']} | {row['shape']} | {row['endpoint']} | {row['rps']} "
            f"({rps_low}–{rps_high}) | {row['p50_ms']} | {row['p99_ms']} ({p99_low}–{p99_high}) "
            f"| {row['errors']} | {row['pg_connections_peak']} |"
        )
    if not results["pgbouncer"]:
        lines += ["", "PgBouncer was not installed: not measured."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each cell")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--pool-min", type=int, default=2)
    parser.add_argument("--pool-max", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds per cell")
    parser.add_argument("--modes", default="persistent,pool,pgbouncer")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="haat-bench-pool-"))
    bouncer_dir = Path(tempfile.mkdtemp(prefix="haat-bench-pgbouncer-"))
    direct_url = fresh_database()
    env = bench.server_env(direct_url, data_dir)
    env["DATABASE_POOL"] = "false"
    print("Setting up: migrations, shoppers...", flush=True)
    bench.run([bench.PY, "manage.py", "migrate", "--noinput", "-v0"], env)
    bench.run([bench.PY, "manage.py", "collectstatic", "--noinput", "-v0"], env)
    setup = json.loads(bench.run([bench.PY, "bench/prepare.py", str(args.concurrency), "10"], env))
    wanted = args.modes.split(",")
    bouncer = start_pgbouncer(bouncer_dir) if "pgbouncer" in wanted else None
    modes: dict[str, dict[str, str]] = {
        "persistent": {"DATABASE_POOL": "false"},
        "pool": {
            "DATABASE_POOL": "true",
            "DATABASE_POOL_MIN_SIZE": str(args.pool_min),
            "DATABASE_POOL_MAX_SIZE": str(args.pool_max),
        },
    }
    if bouncer is not None:
        modes["pgbouncer"] = {
            "DATABASE_POOL": "false",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{PGBOUNCER_PORT}/{DATABASE_NAME}",
        }
    modes = {name: extra for name, extra in modes.items() if name in wanted}
    shapes = {"4 sync workers": (4, 1), "2 workers × 8 threads": (2, 8)}
    # Every configuration runs at once on its own port and the cells take turns, so load from
    # elsewhere on the machine falls on all of them alike.
    configurations = [(mode, shape) for shape in shapes for mode in modes]
    servers: dict[tuple[str, str], tuple[subprocess.Popen, int, str]] = {}
    cells: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    try:
        for port, (mode, shape) in enumerate(configurations, start=SERVER_PORT):
            workers, threads = shapes[shape]
            application = BOUNCER_APPLICATION if mode == "pgbouncer" else f"haat-bench-{port}"
            server_env = {**env, **modes[mode]}
            if mode != "pgbouncer":
                server_env["DATABASE_URL"] = f"{direct_url}?application_name={application}"
            process = start_server(server_env, port, workers, threads, data_dir / f"{port}.log")
            servers[(mode, shape)] = (process, port, application)
        # Warm-up, not measured: each worker's first requests load the views and the API.
        for _, port, _ in servers.values():
            for kind in ("read", "write"):
                asyncio.run(drive(f"http://127.0.0.1:{port}", setup, kind, 8, 3.0))
        for round_number in range(args.rounds):
            for mode, shape in configurations:
                _, port, application = servers[(mode, shape)]
                for endpoint, kind in (
                    ("GET /api/cart", "read"),
                    ("POST /api/cart/lines", "write"),
                ):
                    base = f"http://127.0.0.1:{port}"
                    cell = measure(base, application, setup, kind, args.concurrency, args.seconds)
                    cell.update(mode=mode, shape=shape, endpoint=endpoint, round=round_number)
                    print(json.dumps(cell), flush=True)
                    cells.setdefault((mode, shape, endpoint), []).append(cell)
    finally:
        for process, _, _ in servers.values():
            bench.stop_server(process)
        if bouncer is not None:
            os.killpg(bouncer.pid, signal.SIGTERM)
            bouncer.wait(timeout=10)
        if not cells:
            print(f"Server logs kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
        shutil.rmtree(bouncer_dir, ignore_errors=True)
    results = {
        "when": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "concurrency": args.concurrency,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "pool": {"min_size": args.pool_min, "max_size": args.pool_max},
        "pgbouncer": bouncer is not None,
        "rows": [median_row(group) for group in cells.values()],
        "cells": [cell for group in cells.values() for cell in group],
    }
    report = render(results)
    print(report)
    bench.RESULTS.mkdir(parents=True, exist_ok=True)
    (bench.RESULTS / "pool.md").write_text(report)
    (bench.RESULTS / "pool.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
