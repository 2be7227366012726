"""Server CPU per request against the floor: what each page and API call costs the server,
next to the cheapest request Haat can answer, measured in the same run.

The floor is ``GET /bench/floor`` (routed only with BENCH_FLOOR_ENDPOINT=true): the whole
middleware stack, a signed-in session and its user, one trivial query. Every endpoint's cost
is the server processes' CPU time (utime + stime of every process in the server's process
group, from /proc/<pid>/stat) over a batch of its requests, divided by the batch's requests; wall
time would count the load generator and the other work on this shared machine. Each round runs
every endpoint once on every server, in a rotating order, with the floor at both ends of the
round; a ratio is an endpoint's CPU over that round's floor, and the table shows medians over
the rounds. Every server compared (gunicorn sync, gunicorn gthread, granian WSGI, granian ASGI)
runs at once on its own port with the same worker count, idle while another is measured.

    .venv/bin/python bench/floor.py                      # 5 rounds, every server
    .venv/bin/python bench/floor.py --quick              # 2 short rounds
    .venv/bin/python bench/floor.py --servers sync --label before

Writes bench/results/floor-latest.md and floor-latest.json (plus a timestamped copy). Only
127.0.0.1; every batch is bounded in requests and seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from run import (  # noqa: E402  (bench/run.py: database, environment, helpers)
    RESULTS,
    Shopper,
    database,
    free_port,
    percentile,
    prepare_database,
    server_env,
    stop_server,
    table,
)

BIN = ROOT / ".venv" / "bin"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# A Redis database of the benchmark's own (emptied at the start): the shared cache and the
# sessions' cache, as in production with REDIS_URL.
BENCH_REDIS_URL = "redis://127.0.0.1:6379/13"


# ------------------------------------------------------------------------------ servers
def server_command(kind: str, port: int, workers: int, threads: int) -> list[str]:
    # gunicorn's control socket has one default path, which two servers would share.
    gunicorn = [str(BIN / "gunicorn"), "haat.wsgi", "--bind", f"127.0.0.1:{port}"]
    gunicorn += ["--no-control-socket", "--backlog", "4096"]
    if kind == "sync":
        return [*gunicorn, "--workers", str(workers)]
    if kind == "gthread":
        return [
            *gunicorn,
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
        ]
    granian = [
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-ws",
        "--http1-header-read-timeout",
        "10000",
    ]
    if kind == "granian-wsgi":
        return [str(BIN / "granian"), "--interface", "wsgi", "haat.wsgi:application", *granian]
    if kind == "granian-asgi":
        return [str(BIN / "granian"), "--interface", "asginl", "haat.asgi:application", *granian]
    raise SystemExit(f"unknown server {kind!r}")


SERVER_LABELS = {
    "sync": "gunicorn sync",
    "gthread": "gunicorn gthread",
    "granian-wsgi": "granian WSGI",
    "granian-asgi": "granian ASGI",
}


@dataclass
class Server:
    kind: str
    port: int
    process: subprocess.Popen

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """CPU time of every process in the server's group (master and workers, all threads)."""
        total = 0
        for entry in os.scandir("/proc"):
            if not entry.name.isdecimal():
                continue
            try:
                with open(f"/proc/{entry.name}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # After the name: state ppid pgrp ...; utime and stime are fields 14 and 15.
            if int(fields[2]) == self.process.pid:
                total += int(fields[11]) + int(fields[12])
        return total / CLOCK_TICKS


def start(kind: str, env: dict[str, str], workers: int, threads: int) -> Server:
    port = free_port()
    command = server_command(kind, port, workers, threads)
    log = open(tempfile.mkstemp(prefix=f"haat-floor-{kind}-", suffix=".log")[1], "w")  # noqa: SIM115
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, start_new_session=True, stdout=log, stderr=log
    )
    # A worker's first request imports the URLconf and every view (seconds on a busy machine).
    deadline = time.monotonic() + 240
    answer = "no answer"
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/", timeout=60)
            if response.status_code == 200:
                return Server(kind, port, process)
            answer = f"{response.status_code} {response.text[:300]}"
        except httpx.HTTPError as error:
            answer = repr(error)
        time.sleep(0.3)
    stop_server(process)
    raise SystemExit(f"{kind} did not start within 240 s: {answer} (log: {log.name})")


# ------------------------------------------------------------------------------ endpoints
@dataclass
class Endpoint:
    name: str
    label: str
    pool: str  # which shoppers send it
    request: Callable[[httpx.AsyncClient, Shopper, int], Any]
    ok: tuple[int, ...] = (200,)


def json_headers(shopper: Shopper) -> dict[str, str]:
    return shopper.headers(True)


def endpoints(setup: dict[str, Any]) -> list[Endpoint]:
    products = setup["cart_products"]
    browse = setup["browse_slugs"]
    categories = setup["category_slugs"]

    def floor(client: httpx.AsyncClient, shopper: Shopper, n: int) -> Any:
        return client.get("/bench/floor", headers=shopper.headers())

    def add_api(client: httpx.AsyncClient, shopper: Shopper, n: int) -> Any:
        body = json.dumps({"product_id": products[n % len(products)], "quantity": 1})
        return client.post("/api/cart/lines", content=body, headers=json_headers(shopper))

    def add_form(client: httpx.AsyncClient, shopper: Shopper, n: int) -> Any:
        headers = shopper.headers()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        body = httpx.QueryParams(
            {
                "csrfmiddlewaretoken": shopper.csrf,
                "product_id": products[n % len(products)],
                "quantity": 1,
            }
        )
        return client.post("/cart/add/", content=str(body), headers=headers)

    def product(client: httpx.AsyncClient, shopper: Shopper, n: int) -> Any:
        return client.get(f"/p/{browse[n % len(browse)]}/", headers=shopper.headers())

    def category(client: httpx.AsyncClient, shopper: Shopper, n: int) -> Any:
        return client.get(f"/c/{categories[n % len(categories)]}/", headers=shopper.headers())

    def home(client: httpx.AsyncClient, shopper: Shopper, n: int) -> Any:
        return client.get("/", headers=shopper.headers())

    def cart(client: httpx.AsyncClient, shopper: Shopper, n: int) -> Any:
        return client.get("/cart/", headers=shopper.headers())

    def checkout(client: httpx.AsyncClient, shopper: Shopper, n: int) -> Any:
        body = json.dumps({"buy_now": {"product_id": setup["hot_product"], "quantity": 1}})
        return client.post("/api/checkout", content=body, headers=json_headers(shopper))

    return [
        Endpoint("floor", "floor (GET /bench/floor)", "browse", floor),
        Endpoint("add_api", "add to cart (POST /api/cart/lines)", "add_api", add_api),
        Endpoint("add_form", "add to cart (POST /cart/add/ form)", "add_form", add_form, (302,)),
        Endpoint("product", "product page (GET /p/<slug>/)", "browse", product),
        Endpoint("category", "category page (GET /c/<slug>/)", "browse", category),
        Endpoint("home", "home page (GET /)", "browse", home),
        Endpoint("cart", "cart page (GET /cart/)", "browse", cart),
        Endpoint("checkout", "checkout (POST /api/checkout, Buy Now)", "checkout", checkout),
    ]


@dataclass
class Batch:
    cpu_ms: float
    rps: float
    p99_ms: float
    requests: int
    unexpected: int


async def batch(
    server: Server,
    endpoint: Endpoint,
    shoppers: list[Shopper],
    counter: itertools.count,
    requests: int,
    concurrency: int,
    max_seconds: float,
) -> Batch:
    latencies: list[float] = []
    unexpected = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=server.base, limits=limits, timeout=30.0) as client:
        # Connections are opened before the clock starts (the floor's cost is not a handshake).
        await asyncio.gather(
            *(client.get("/bench/floor", headers=shoppers[0].headers()) for _ in range(concurrency))
        )
        remaining = iter(range(requests))
        cpu_before = server.cpu_seconds()
        started = time.perf_counter()
        deadline = started + max_seconds

        async def worker() -> None:
            nonlocal unexpected
            for _ in remaining:
                if time.perf_counter() > deadline:
                    return
                n = next(counter)
                shopper = shoppers[n % len(shoppers)]
                t0 = time.perf_counter()
                try:
                    response = await endpoint.request(client, shopper, n // len(shoppers))
                    status = response.status_code
                except httpx.HTTPError:
                    status = 0
                latencies.append(time.perf_counter() - t0)
                if status not in endpoint.ok:
                    unexpected += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        # Let the last responses' bookkeeping (a worker's post-response work) land in this batch.
        await asyncio.sleep(0.05)
        cpu = server.cpu_seconds() - cpu_before
    done = max(1, len(latencies))
    return Batch(
        cpu_ms=cpu * 1000 / done,
        rps=len(latencies) / max(elapsed, 1e-9),
        p99_ms=percentile(sorted(latencies), 99) * 1000,
        requests=len(latencies),
        unexpected=unexpected,
    )


# ------------------------------------------------------------------------------ the run
def pools(setup: dict[str, Any]) -> dict[str, list[Shopper]]:
    shoppers = [Shopper(s) for s in setup["shoppers"]]
    # Separate shoppers per kind of request, so a cart read always sees the same small cart
    # (3 lines) and the adds spread over many carts.
    return {
        "browse": shoppers[:50],
        "checkout": shoppers[50:150],
        "add_api": shoppers[150:450],
        "add_form": shoppers[450:750],
    }


async def warm_up(server: Server, setup: dict[str, Any], groups: dict[str, list[Shopper]]) -> None:
    """Fill the browsing shoppers' carts (3 lines each), give every checkout shopper an earlier
    checkout (so each measured one replaces it, as a shopper's second try does), give every
    adding shopper a cart with one line (so a measured add is a signed-in shopper's add, with
    the session in the cache as after sign-in and browsing, as the floor's is, not each
    shopper's first request creating a cart) and touch every page once per worker, so no
    batch pays for first imports or cold caches."""
    limits = httpx.Limits(max_connections=8, max_keepalive_connections=8)
    async with httpx.AsyncClient(base_url=server.base, limits=limits, timeout=60.0) as client:
        gate = asyncio.Semaphore(8)

        async def send(coroutine: Any) -> None:
            async with gate:
                await coroutine

        adds = [
            client.post(
                "/api/cart/lines",
                content=json.dumps({"product_id": product, "quantity": 1}),
                headers=json_headers(shopper),
            )
            for shopper in groups["browse"]
            for product in setup["cart_products"][:3]
        ]
        checkouts = [
            client.post(
                "/api/checkout",
                content=json.dumps(
                    {"buy_now": {"product_id": setup["hot_product"], "quantity": 1}}
                ),
                headers=json_headers(shopper),
            )
            for shopper in groups["checkout"]
        ]
        first_lines = [
            client.post(
                "/api/cart/lines",
                content=json.dumps({"product_id": setup["cart_products"][-1], "quantity": 1}),
                headers=json_headers(shopper),
            )
            for shopper in groups["add_api"] + groups["add_form"]
        ]
        await asyncio.gather(*(send(c) for c in adds + checkouts + first_lines))


async def warm_pages(
    server: Server, eps: list[Endpoint], groups: dict[str, list[Shopper]], counter: itertools.count
) -> None:
    for endpoint in eps:
        await batch(server, endpoint, groups[endpoint.pool], counter, 20, 4, 30)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="haat-floor-"))
    database_url, pg_server = database(args.database)
    env = server_env(database_url, data_dir)
    env["BENCH_FLOOR_ENDPOINT"] = "true"
    env["WEB_CONCURRENCY"] = str(args.workers)
    if args.redis:
        import redis

        redis.Redis.from_url(args.redis).flushdb()
        env["REDIS_URL"] = args.redis
    print(
        f"Haat floor benchmark on {os.cpu_count()} cores; PostgreSQL at "
        f"{database_url.split('@')[-1]}; cache {'Redis' if args.redis else 'database'}",
        flush=True,
    )
    setup = prepare_database(env, shoppers=750, flash_units=10)
    eps = endpoints(setup)
    groups = pools(setup)
    servers: list[Server] = []
    rows: dict[str, dict[str, list[Batch]]] = {}
    floors: dict[str, list[float]] = {}
    ratios: dict[str, dict[str, list[float]]] = {}
    try:
        for kind in args.servers:
            servers.append(start(kind, env, args.workers, args.threads))
        asyncio.run(warm_up(servers[0], setup, groups))
        counters = {e.name: itertools.count() for e in eps}
        for server in servers:
            asyncio.run(warm_pages(server, eps, groups, itertools.count()))
            rows[server.kind] = {e.name: [] for e in eps}
            floors[server.kind] = []
            ratios[server.kind] = {e.name: [] for e in eps}
        measured = [e for e in eps if e.name != "floor"]
        floor = eps[0]
        for round_number in range(args.rounds):
            order = (
                measured[round_number % len(measured) :] + measured[: round_number % len(measured)]
            )
            for server in (
                servers[round_number % len(servers) :] + servers[: round_number % len(servers)]
            ):

                def one(endpoint: Endpoint, server: Server = server) -> Batch:
                    result = asyncio.run(
                        batch(
                            server,
                            endpoint,
                            groups[endpoint.pool],
                            counters[endpoint.name],
                            args.requests,
                            args.concurrency,
                            args.max_seconds,
                        )
                    )
                    rows[server.kind][endpoint.name].append(result)
                    return result

                first = one(floor)
                results = {e.name: one(e) for e in order}
                last = one(floor)
                round_floor = (first.cpu_ms + last.cpu_ms) / 2
                floors[server.kind].append(round_floor)
                ratios[server.kind]["floor"].append(1.0)
                for name, result in results.items():
                    ratios[server.kind][name].append(result.cpu_ms / max(round_floor, 1e-9))
            print(f"round {round_number + 1}/{args.rounds} done", flush=True)
    finally:
        for server in servers:
            stop_server(server.process)
        if pg_server is not None:
            pg_server.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)

    summary: dict[str, Any] = {}
    for kind, by_endpoint in rows.items():
        summary[kind] = {}
        for e in eps:
            batches = by_endpoint[e.name]
            summary[kind][e.name] = {
                "label": e.label,
                "cpu_ms": statistics.median(b.cpu_ms for b in batches),
                "cpu_ms_rounds": [round(b.cpu_ms, 3) for b in batches],
                "ratio_to_floor": statistics.median(ratios[kind][e.name]),
                "ratio_rounds": [round(r, 3) for r in ratios[kind][e.name]],
                "rps": statistics.median(b.rps for b in batches),
                "p99_ms": statistics.median(b.p99_ms for b in batches),
                "requests": sum(b.requests for b in batches),
                "unexpected_statuses": sum(b.unexpected for b in batches),
            }
    return {
        "label": args.label,
        "when": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_end": os.getloadavg(),
        },
        "settings": {
            "workers": args.workers,
            "gthread_threads": args.threads,
            "concurrency": args.concurrency,
            "requests_per_batch": args.requests,
            "rounds": args.rounds,
            "cache": "redis" if args.redis else "database",
        },
        "servers": summary,
    }


def render(results: dict[str, Any]) -> str:
    machine, settings = results["machine"], results["settings"]
    servers = results["servers"]
    out = [
        f"# Haat: server CPU per request against the floor {results['label']}".rstrip(),
        "",
        f"{results['when']} · {machine['cores']} cores · Python {machine['python']} · "
        f"{settings['workers']} workers per server (gthread: {settings['gthread_threads']} "
        f"threads) · {settings['concurrency']} concurrent clients · PostgreSQL · "
        f"{settings['cache']} cache · {settings['rounds']} interleaved rounds of "
        f"{settings['requests_per_batch']} requests per endpoint · load average at the end "
        f"{machine['load_average_at_end'][0]:.1f}",
        "",
        "CPU ms = the server processes' CPU time per request (median over rounds); ratio = that "
        "over the same round's floor (median over rounds).",
    ]
    for kind, by_endpoint in servers.items():
        out += ["", f"## {SERVER_LABELS[kind]}", ""]
        out.append(
            table(
                [
                    [
                        row["label"],
                        f"{row['cpu_ms']:.2f}",
                        f"{row['ratio_to_floor']:.2f}",
                        f"{row['rps']:.0f}",
                        f"{row['p99_ms']:.1f}",
                        row["unexpected_statuses"],
                    ]
                    for row in by_endpoint.values()
                ],
                ["endpoint", "CPU ms", "× floor", "req/s", "p99 ms", "unexpected"],
            )
        )
    if len(servers) > 1:
        names = list(next(iter(servers.values())).keys())
        out += ["", "## Servers compared (CPU ms per request · req/s · p99 ms)", ""]
        body = []
        for name in names:
            body.append(
                [next(iter(servers.values()))[name]["label"]]
                + [
                    f"{servers[k][name]['cpu_ms']:.2f} · {servers[k][name]['rps']:.0f} · "
                    f"{servers[k][name]['p99_ms']:.1f}"
                    for k in servers
                ]
            )
        total = {k: sum(r["cpu_ms"] for r in servers[k].values()) for k in servers}
        body.append(["sum of CPU ms"] + [f"{total[k]:.2f}" for k in servers])
        out.append(table(body, ["endpoint"] + [SERVER_LABELS[k] for k in servers]))
        best = min(total, key=total.__getitem__)
        out += ["", f"Least CPU over all endpoints: {SERVER_LABELS[best]}."]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="2 short rounds (smoke test)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200, help="requests per batch")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--max-seconds", type=float, default=20.0, help="bound on one batch")
    parser.add_argument(
        "--servers",
        default="sync,gthread,granian-wsgi,granian-asgi",
        help="comma-separated: " + ", ".join(SERVER_LABELS),
    )
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--threads", type=int, default=4, help="gthread threads per worker")
    parser.add_argument(
        "--redis",
        default=BENCH_REDIS_URL,
        help="the shared cache (its database is emptied first); '' for the database cache",
    )
    parser.add_argument(
        "--database", default="haat_bench_floor", help="name of the fresh PostgreSQL database"
    )
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    if args.quick:
        args.rounds, args.requests = 2, 60
    if args.redis:
        import redis

        try:
            redis.Redis.from_url(args.redis, socket_connect_timeout=1).ping()
        except redis.RedisError:
            print("No Redis at 127.0.0.1:6379: the database cache is used.")
            args.redis = ""
    results = measure(args)
    report = render(results)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(tz=UTC).strftime("%Y%m%d-%H%M%S")
    for name in (f"floor-{stamp}.json", "floor-latest.json"):
        (RESULTS / name).write_text(json.dumps(results, indent=2))
    (RESULTS / "floor-latest.md").write_text(report + "\n")
    print("\nResults: bench/results/floor-latest.md, floor-latest.json")


if __name__ == "__main__":
    main()
