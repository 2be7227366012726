"""Haat benchmarks: how much traffic one machine holds, and proof that nothing is oversold.

Starts Haat in production mode (gunicorn, PostgreSQL, DEBUG off) on 127.0.0.1, seeds shoppers
and products, drives it with an asyncio + httpx load generator and prints a table; results and
PNG plots go to bench/results/. Every phase is bounded in time and talks only to 127.0.0.1.

    make bench                 # the full run (about 3 minutes)
    make bench ARGS=--quick    # a short smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PY = sys.executable
LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


# ------------------------------------------------------------------------------ measurement
@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    errors: int = 0
    started: float = 0.0
    finished: float = 0.0

    def record(self, kind: str, seconds: float, status: int) -> None:
        self.latencies[kind].append(seconds)
        self.statuses[kind][status] += 1
        if status >= 500 or status == 0:
            self.errors += 1

    def summary(self, kinds: list[str] | None = None) -> dict[str, Any]:
        values = sorted(
            v for k, vs in self.latencies.items() if kinds is None or k in kinds for v in vs
        )
        elapsed = max(1e-9, self.finished - self.started)
        statuses: dict[int, int] = defaultdict(int)
        for k, counts in self.statuses.items():
            if kinds is None or k in kinds:
                for status, n in counts.items():
                    statuses[status] += n
        return {
            "requests": len(values),
            "rps": len(values) / elapsed,
            "p50_ms": percentile(values, 50) * 1000,
            "p95_ms": percentile(values, 95) * 1000,
            "p99_ms": percentile(values, 99) * 1000,
            "errors": sum(n for s, n in statuses.items() if s >= 500 or s == 0),
            "statuses": dict(sorted(statuses.items())),
        }


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


# ------------------------------------------------------------------------------ environment
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database(name: str = "haat_bench") -> tuple[str, Any]:
    """A fresh, empty PostgreSQL database for the run: $BENCH_DATABASE_URL, the local server,
    or a throwaway server from the pgserver wheel."""
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"], None
    try:
        with psycopg.connect(LOCAL_PG, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
        return f"postgres://postgres@127.0.0.1:5432/{name}", None
    except psycopg.OperationalError:
        import pgserver

        server = pgserver.get_server(
            Path(tempfile.mkdtemp(prefix="haat-bench-pg-")), cleanup_mode="delete"
        )
        return server.get_uri("postgres").replace("postgresql://", "postgres://", 1), server


def server_env(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(
        HAAT_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url,
        HAAT_DATA_DIR=str(data_dir),
        # Plain HTTP on loopback only: no TLS in front of it during the benchmark.
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
        # The flash sale pays with the test gateway's card: a staging switch, on purpose.
        PAYMENT_GATEWAY="test",
        ALLOW_TEST_PAYMENTS_IN_PRODUCTION="true",
        SILENCED_SYSTEM_CHECKS="security.W004,security.W008,security.W012,security.W016,haat.E001",
        LOG_LEVEL="WARNING",
        # The load generator plays each shopper far faster than a person (flat-out adds,
        # dozens of checkouts a minute): the abuse limits would turn capacity into 429s.
        RATE_LIMIT_CART_WRITES="off",
        RATE_LIMIT_CHECKOUT="off",
    )
    return env


def run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def prepare_database(env: dict[str, str], shoppers: int, flash_units: int) -> dict[str, Any]:
    """Migrations, static files, the demo catalogue (no images, no demo accounts) and the
    benchmark's shoppers (bench/prepare.py), in the benchmark's database; returns its set-up."""
    run([PY, "manage.py", "migrate", "--noinput", "-v0"], env)
    run([PY, "manage.py", "collectstatic", "--noinput", "-v0"], env)
    run(
        [
            PY,
            "manage.py",
            "seed_demo",
            "--images-per-product",
            "0",
            "--no-progress",
            "--no-accounts",
        ],
        # seed_demo refuses production mode; the demo catalogue goes into the same database.
        dict(env, HAAT_ENV="development"),
    )
    return json.loads(run([PY, "bench/prepare.py", str(shoppers), str(flash_units)], env))


def start_server(env: dict[str, str], port: int, workers: int, threads: int) -> subprocess.Popen:
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "haat.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--backlog",
        "4096",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    sys.exit("gunicorn did not start within 30 s")


def stop_server(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


# ------------------------------------------------------------------------------ load
class Shopper:
    def __init__(self, data: dict[str, Any]) -> None:
        self.cookies = f"sessionid={data['session']}; csrftoken={data['csrf']}"
        self.csrf = data["csrf"]
        self.lines: set[int] = set()

    def headers(self, json_body: bool = False) -> dict[str, str]:
        headers = {"Cookie": self.cookies, "X-CSRFToken": self.csrf, "Referer": "http://127.0.0.1/"}
        if json_body:
            headers["Content-Type"] = "application/json"
        return headers


async def timed(stats: Stats, kind: str, coroutine: Any) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response = await coroutine
    except httpx.HTTPError:
        stats.record(kind, time.perf_counter() - started, 0)
        return None
    stats.record(kind, time.perf_counter() - started, response.status_code)
    return response


async def shopping_action(
    client: httpx.AsyncClient,
    stats: Stats,
    shopper: Shopper,
    setup: dict[str, Any],
    rng: random.Random,
    mix: str,
) -> None:
    if mix == "add":
        product = rng.choice(setup["cart_products"])
        body = json.dumps({"product_id": product, "quantity": 1})
        await timed(
            stats,
            "add_to_cart",
            client.post("/api/cart/lines", content=body, headers=shopper.headers(True)),
        )
        return
    roll = rng.random()
    if roll < 0.15:
        await timed(stats, "browse", client.get("/", headers=shopper.headers()))
    elif roll < 0.25:
        await timed(
            stats,
            "browse",
            client.get(f"/c/{rng.choice(setup['category_slugs'])}/", headers=shopper.headers()),
        )
    elif roll < 0.50:
        await timed(
            stats,
            "product",
            client.get(f"/p/{rng.choice(setup['browse_slugs'])}/", headers=shopper.headers()),
        )
    elif roll < 0.65:
        product = rng.choice(setup["cart_products"])
        body = json.dumps({"product_id": product, "quantity": 1})
        response = await timed(
            stats,
            "add_to_cart",
            client.post("/api/cart/lines", content=body, headers=shopper.headers(True)),
        )
        if response is not None and response.status_code == 200:
            shopper.lines.add(product)
    elif roll < 0.75:
        if not shopper.lines:
            return
        product = rng.choice(sorted(shopper.lines))
        body = json.dumps({"quantity": rng.randint(1, 3)})
        await timed(
            stats,
            "change_quantity",
            client.patch(f"/api/cart/lines/{product}", content=body, headers=shopper.headers(True)),
        )
    elif roll < 0.85:
        body = json.dumps({"product_id": rng.choice(setup["cart_products"])})
        await timed(
            stats,
            "toggle_wishlist",
            client.post("/api/wishlist/toggle", content=body, headers=shopper.headers(True)),
        )
    else:
        await timed(stats, "view_cart", client.get("/cart/", headers=shopper.headers()))


async def load(
    base: str,
    setup: dict[str, Any],
    concurrency: int,
    seconds: float,
    mix: str,
    progress: tqdm,
    think: float = 0.0,
) -> Stats:
    stats = Stats()
    shoppers = [Shopper(s) for s in setup["shoppers"][:concurrency]]
    limits = httpx.Limits(
        max_connections=concurrency + 8, max_keepalive_connections=concurrency + 8
    )
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0) as client:
        stats.started = time.perf_counter()
        deadline = stats.started + seconds

        async def loop(index: int) -> None:
            rng = random.Random(index)
            if think:
                await asyncio.sleep(rng.uniform(0, think))  # shoppers arrive spread out
            while time.perf_counter() < deadline:
                await shopping_action(
                    client, stats, shoppers[index % len(shoppers)], setup, rng, mix
                )
                if think:
                    # A person looks at the page before the next click: 0.5x to 1.5x the mean.
                    await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))

        async def tick() -> None:
            while time.perf_counter() < deadline:
                await asyncio.sleep(0.5)
                progress.update(0.5)

        await asyncio.gather(tick(), *(loop(i) for i in range(concurrency)))
        stats.finished = time.perf_counter()
    return stats


async def flash_sale(
    base: str, setup: dict[str, Any], shoppers_count: int, progress: tqdm
) -> dict[str, Any]:
    """N shoppers race to buy one unit each of a product with K units, then pay."""
    shoppers = [Shopper(s) for s in setup["shoppers"][:shoppers_count]]
    stats = Stats()
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    gate = asyncio.Semaphore(256)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60.0) as client:
        stats.started = time.perf_counter()

        async def buy(shopper: Shopper) -> dict[str, Any] | None:
            body = json.dumps({"buy_now": {"product_id": setup["flash_product"], "quantity": 1}})
            async with gate:
                response = await timed(
                    stats,
                    "checkout",
                    client.post("/api/checkout", content=body, headers=shopper.headers(True)),
                )
            progress.update(10 / max(1, shoppers_count))
            if response is not None and response.status_code == 200:
                return {"shopper": shopper, **response.json()}
            return None

        winners = [w for w in await asyncio.gather(*(buy(s) for s in shoppers)) if w]
        answered = time.perf_counter() - stats.started

        async def pay(winner: dict[str, Any]) -> None:
            shopper = winner["shopper"]
            path = httpx.URL(winner["payment_url"]).path
            data = {
                "csrfmiddlewaretoken": shopper.csrf,
                "card_number": "4242424242424242",
                "action": "pay",
            }
            headers = shopper.headers()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            await timed(
                stats,
                "pay",
                client.post(path, content=httpx.QueryParams(data).__str__(), headers=headers),
            )

        await asyncio.gather(*(pay(w) for w in winners))
        stats.finished = time.perf_counter()
    refusals = stats.statuses["checkout"].get(409, 0)
    return {
        "shoppers": shoppers_count,
        "units": setup["flash_units"],
        "seconds_until_all_answered": answered,
        "seconds_including_payment": stats.finished - stats.started,
        "reservations": len(winners),
        "refusals": refusals,
        "errors": stats.errors,
        "checkout_p99_ms": percentile(sorted(stats.latencies["checkout"]), 99) * 1000,
    }


async def hot_product(
    base: str, setup: dict[str, Any], concurrency: int, seconds: float, progress: tqdm
) -> Stats:
    stats = Stats()
    shoppers = [Shopper(s) for s in setup["shoppers"][:concurrency]]
    limits = httpx.Limits(
        max_connections=concurrency + 8, max_keepalive_connections=concurrency + 8
    )
    body = json.dumps({"buy_now": {"product_id": setup["hot_product"], "quantity": 1}})
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0) as client:
        stats.started = time.perf_counter()
        deadline = stats.started + seconds

        async def loop(shopper: Shopper) -> None:
            while time.perf_counter() < deadline:
                await timed(
                    stats,
                    "reserve",
                    client.post("/api/checkout", content=body, headers=shopper.headers(True)),
                )

        async def tick() -> None:
            while time.perf_counter() < deadline:
                await asyncio.sleep(0.5)
                progress.update(0.5)

        await asyncio.gather(tick(), *(loop(s) for s in shoppers))
        stats.finished = time.perf_counter()
    return stats


async def raw_ceiling(
    database_url: str, product_id: int, concurrency: int, seconds: float, progress: tqdm
) -> float:
    """PostgreSQL's own rate for the conditional UPDATE on one row, autocommit, same machine."""
    url = database_url.replace("postgres://", "postgresql://", 1)
    count = 0
    deadline = time.perf_counter() + seconds

    async def loop() -> None:
        nonlocal count
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            while time.perf_counter() < deadline:
                await conn.execute(
                    "UPDATE catalog_product SET stock = stock - 1 WHERE id = %s AND stock >= 1",
                    (product_id,),
                )
                count += 1

    async def tick() -> None:
        while time.perf_counter() < deadline:
            await asyncio.sleep(0.5)
            progress.update(0.5)

    started = time.perf_counter()
    await asyncio.gather(tick(), *(loop() for _ in range(concurrency)))
    return count / (time.perf_counter() - started)


def one(conn: psycopg.Connection, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...]:
    row = conn.execute(sql, params).fetchone()
    assert row is not None
    return tuple(row)


def db_check(database_url: str, setup: dict[str, Any]) -> dict[str, Any]:
    url = database_url.replace("postgres://", "postgresql://", 1)
    product = (setup["flash_product"],)
    with psycopg.connect(url) as conn:
        stock = one(conn, "SELECT stock FROM catalog_product WHERE id = %s", product)[0]
        paid = one(
            conn,
            "SELECT count(*), coalesce(sum(l.quantity), 0) FROM orders_order o "
            "JOIN orders_orderline l ON l.order_id = o.id "
            "WHERE o.status = 'paid' AND l.product_ref = %s",
            product,
        )
        ledger = one(
            conn,
            "SELECT coalesce(sum(delta), 0) FROM catalog_stockmovement WHERE product_id = %s",
            product,
        )[0]
        negative = one(conn, "SELECT count(*) FROM catalog_product WHERE stock < 0", ())[0]
    return {
        "orders_paid": paid[0],
        "units_sold": int(paid[1]),
        "stock_at_end": stock,
        "ledger_sum": int(ledger),
        "negative_stock_rows": negative,
    }


# ------------------------------------------------------------------------------ report
def table(rows: list[list[Any]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    line = "| " + " | ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    return "\n".join([line, rule, *body])


def plots(results: dict[str, Any], folder: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    mix = results["shopping_mix"]
    levels = [str(row["shoppers"]) for row in mix]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for key, label in (("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99")):
        left.plot(levels, [row[key] for row in mix], marker="o", label=label)
    left.set_title("Shopping mix latency")
    left.set_xlabel("concurrent shoppers")
    left.set_ylabel("ms")
    left.legend()
    right.bar(levels, [row["rps"] for row in mix], color="#f57224")
    right.set_title("Shopping mix throughput")
    right.set_xlabel("concurrent shoppers")
    right.set_ylabel("requests / s")
    fig.tight_layout()
    fig.savefig(folder / "shopping_mix.png", dpi=110)
    made.append("shopping_mix.png")
    plt.close(fig)

    fig, axis = plt.subplots(figsize=(7, 4))
    hot = results["hot_product"]
    labels = ["checkout\nover HTTP", "reservation\ntransaction", "PostgreSQL\nraw UPDATE"]
    values = [
        hot["reservations_per_s"],
        hot.get("service_reservations_per_s", 0),
        hot["raw_updates_per_s"],
    ]
    axis.bar(labels, values, color=["#2abbe8", "#f57224", "#888"])
    axis.set_ylabel("per second")
    axis.set_title("Hot product: one row, many buyers")
    fig.tight_layout()
    fig.savefig(folder / "hot_product.png", dpi=110)
    made.append("hot_product.png")
    plt.close(fig)
    return made


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short phases (smoke test)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each load phase")
    parser.add_argument("--levels", default="16,64,256", help="concurrent shoppers for the mix")
    parser.add_argument("--flash-shoppers", type=int, default=1000)
    parser.add_argument("--flash-units", type=int, default=10)
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1)),
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean seconds a shopper waits between clicks"
    )
    parser.add_argument("--label", default="", help="name for this run in the results file")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.levels, args.flash_shoppers = 4.0, "16,64", 200
    levels = [int(x) for x in args.levels.split(",")]
    shoppers_needed = max(max(levels), args.flash_shoppers, 64)

    RESULTS.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="haat-bench-"))
    database_url, pg_server = database()
    env = server_env(database_url, data_dir)
    print(f"Haat benchmark on {os.cpu_count()} cores; PostgreSQL at {database_url.split('@')[-1]}")
    print("Setting up: migrations, demo catalogue, shoppers...", flush=True)
    run([PY, "manage.py", "check", "--deploy", "--fail-level", "ERROR"], env)
    setup = prepare_database(env, shoppers_needed, args.flash_units)
    port = free_port()
    server = start_server(env, port, args.workers, args.threads)
    base = f"http://127.0.0.1:{port}"
    phase_seconds = args.seconds * (len(levels) + 2) + args.seconds
    results: dict[str, Any] = {
        "label": args.label,
        "when": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "server": {"gunicorn_workers": args.workers, "threads": args.threads},
    }
    try:
        with tqdm(
            total=round(phase_seconds + 10),
            desc="benchmark",
            unit="tick",
            bar_format="{l_bar}{bar}| {elapsed} elapsed",
        ) as progress:
            mix_rows = []
            for level in levels:
                stats = asyncio.run(
                    load(base, setup, level, args.seconds, "mix", progress, args.think)
                )
                mix_rows.append({"shoppers": level, "think_s": args.think, **stats.summary()})
            results["shopping_mix"] = mix_rows
            adds = []
            add_level = 64 if 64 in levels else levels[-1]
            for think in (args.think, 0.0):  # shoppers as people, then flat out (capacity)
                stats = asyncio.run(
                    load(base, setup, add_level, args.seconds, "add", progress, think)
                )
                adds.append({"shoppers": add_level, "think_s": think, **stats.summary()})
            results["add_to_cart"] = adds
            flash = asyncio.run(flash_sale(base, setup, args.flash_shoppers, progress))
            flash.update(db_check(database_url, setup))
            flash["oversold_units"] = max(0, flash["units_sold"] - args.flash_units)
            results["flash_sale"] = flash
            hot = asyncio.run(hot_product(base, setup, 64, args.seconds / 2, progress))
            hot_summary = hot.summary()
            raw = asyncio.run(
                raw_ceiling(database_url, setup["hot_product"], 64, args.seconds / 4, progress)
            )
            results["hot_product"] = {
                "reservations_per_s": hot.statuses["reserve"].get(200, 0)
                / (hot.finished - hot.started),
                "p99_ms": hot_summary["p99_ms"],
                "errors": hot_summary["errors"],
                "raw_updates_per_s": raw,
            }
            # The same reservation code without HTTP: Haat's transaction against the ceiling.
            service = json.loads(
                run(
                    [
                        PY,
                        "bench/reserve_rate.py",
                        str(setup["hot_product"]),
                        "16",
                        str(args.seconds / 4),
                    ],
                    env,
                )
            )
            progress.update(args.seconds / 4)
            results["hot_product"]["service_reservations_per_s"] = service["reservations_per_s"]
            results["hot_product"]["service_ratio_to_raw"] = service["reservations_per_s"] / max(
                raw, 1e-9
            )
            results["hot_product"]["ratio_to_raw"] = results["hot_product"][
                "reservations_per_s"
            ] / max(raw, 1e-9)
    finally:
        stop_server(server)
        if pg_server is not None:
            pg_server.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)

    report = render(results)
    print(report)
    stamp = datetime.now(tz=UTC).strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"{stamp}.json").write_text(json.dumps(results, indent=2))
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2))
    made = plots(results, RESULTS)
    (RESULTS / "latest.md").write_text(report + "\n\nPlots: " + ", ".join(made) + "\n")
    print(f"\nResults: bench/results/latest.md, latest.json, {', '.join(made)}")
    if results["flash_sale"]["oversold_units"] or results["flash_sale"]["negative_stock_rows"]:
        sys.exit("OVERSOLD: the flash sale sold more units than it had")


def load_rows(rows: list[dict[str, Any]]) -> tuple[list[list[Any]], list[str]]:
    body = [
        [
            r["shoppers"],
            r["think_s"],
            f"{r['rps']:.0f}",
            f"{r['p50_ms']:.1f}",
            f"{r['p95_ms']:.1f}",
            f"{r['p99_ms']:.1f}",
            r["errors"],
            r["requests"],
        ]
        for r in rows
    ]
    return body, [
        "shoppers",
        "think s",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "errors",
        "requests",
    ]


def render(results: dict[str, Any]) -> str:
    machine = results["machine"]
    out = [
        f"# Haat benchmark {results['label']}".rstrip(),
        f"{results['when']} · {machine['cores']} cores · Python {machine['python']} · gunicorn {results['server']['gunicorn_workers']} workers × {results['server']['threads']} threads · PostgreSQL",
        "",
        "## Shopping mix (browse, product, add to cart, change quantity, wishlist, view cart)",
        table(
            *load_rows(results["shopping_mix"]),
        ),
        "",
        "## Add to cart alone (POST /api/cart/lines)",
        table(
            *load_rows(results["add_to_cart"]),
        ),
        "",
        "## Flash sale",
    ]
    f = results["flash_sale"]
    out.append(
        table(
            [
                [
                    f["shoppers"],
                    f["units"],
                    f"{f['seconds_until_all_answered']:.2f}",
                    f["reservations"],
                    f["orders_paid"],
                    f["refusals"],
                    f["oversold_units"],
                    f["stock_at_end"],
                    f["errors"],
                ]
            ],
            [
                "shoppers",
                "units",
                "s until all answered",
                "reservations",
                "orders paid",
                "refusals",
                "oversold",
                "stock at end",
                "errors",
            ],
        )
    )
    h = results["hot_product"]
    out += [
        "",
        "## Hot product (one product)",
        table(
            [
                [
                    "checkout over HTTP (64 buyers, /api/checkout)",
                    f"{h['reservations_per_s']:.0f}",
                    f"{h['reservations_per_s'] / max(h['raw_updates_per_s'], 1e-9):.2f}",
                    f"{h['p99_ms']:.1f}",
                    h["errors"],
                ],
                [
                    "reservation transaction (16 threads, stock_take + ledger)",
                    f"{h.get('service_reservations_per_s', 0):.0f}",
                    f"{h.get('service_ratio_to_raw', 0):.2f}",
                    "",
                    "",
                ],
                [
                    "PostgreSQL raw conditional UPDATE (64 connections)",
                    f"{h['raw_updates_per_s']:.0f}",
                    "1.00",
                    "",
                    "",
                ],
            ],
            ["path", "per second", "share of raw", "p99 ms", "errors"],
        ),
    ]
    return "\n".join(out)


if __name__ == "__main__":
    main()
