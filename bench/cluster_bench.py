"""The cluster phase of `make bench`: add to cart and checkout through HAProxy with 1, 2 and 3 app
nodes, all on this machine (so they share its cores, with PostgreSQL and the load generator).

One cluster of 3 nodes is started with the launcher `make cluster` uses (scripts/cluster.py) on
a fresh database; for each row the balancer sends traffic to the first 1, 2 or 3 nodes only (the
others are in maintenance, idle). Prints a table with the core count and writes
bench/results/cluster-latest.md and cluster-latest.json. Traffic goes to 127.0.0.1 only and
every phase is bounded in time.

    .venv/bin/python bench/cluster_bench.py [--quick] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import (  # noqa: E402  (bench/run.py: the single-node benchmark's load generator)
    Shopper,
    Stats,
    free_port,
    load,
    raw_ceiling,
    table,
    timed,
)

from scripts.cluster import Cluster, ClusterError, database_drop  # noqa: E402

RESULTS = ROOT / "bench" / "results"
LOCAL_DATABASE = "postgres://postgres@127.0.0.1:5432/haat_bench_cluster"
NODE_COUNTS = (1, 2, 3)
SHOPPERS = 64
WORKERS_PER_NODE = 2


async def checkouts(
    base: str,
    setup: dict[str, Any],
    product_ids: list[int],
    seconds: float,
    progress: tqdm,
) -> Stats:
    """SHOPPERS buyers check out (Buy Now, one unit) again and again, flat out."""
    stats = Stats()
    shoppers = [Shopper(s) for s in setup["shoppers"][:SHOPPERS]]
    limits = httpx.Limits(max_connections=SHOPPERS + 8, max_keepalive_connections=SHOPPERS + 8)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0) as client:
        stats.started = time.perf_counter()
        deadline = stats.started + seconds

        async def loop(index: int, shopper: Shopper) -> None:
            rng = random.Random(index)
            while time.perf_counter() < deadline:
                body = json.dumps(
                    {"buy_now": {"product_id": rng.choice(product_ids), "quantity": 1}}
                )
                await timed(
                    stats,
                    "checkout",
                    client.post("/api/checkout", content=body, headers=shopper.headers(True)),
                )

        async def tick() -> None:
            while time.perf_counter() < deadline:
                await asyncio.sleep(0.5)
                progress.update(0.5)

        await asyncio.gather(tick(), *(loop(i, s) for i, s in enumerate(shoppers)))
        stats.finished = time.perf_counter()
    return stats


def checkout_row(stats: Stats) -> dict[str, Any]:
    summary = stats.summary()
    return {
        "per_s": stats.statuses["checkout"].get(200, 0) / max(1e-9, stats.finished - stats.started),
        "p99_ms": summary["p99_ms"],
        "errors": summary["errors"],
    }


def fresh_database() -> str:
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"]
    try:
        database_drop(LOCAL_DATABASE)
    except psycopg.OperationalError as error:
        sys.exit(
            f"The cluster bench needs PostgreSQL on 127.0.0.1:5432 or BENCH_DATABASE_URL: {error}"
        )
    return LOCAL_DATABASE


def render(results: dict[str, Any]) -> str:
    machine = results["machine"]
    rows = [
        [
            r["nodes"],
            r["nodes"] * WORKERS_PER_NODE,
            f"{r['add_to_cart']['rps']:.0f}",
            f"{r['add_to_cart']['p99_ms']:.1f}",
            f"{r['checkout']['per_s']:.0f}",
            f"{r['checkout']['p99_ms']:.1f}",
            f"{r['hot_checkout']['per_s']:.0f}",
            f"{r['hot_checkout']['p99_ms']:.1f}",
            r["add_to_cart"]["errors"] + r["checkout"]["errors"] + r["hot_checkout"]["errors"],
        ]
        for r in results["rows"]
    ]
    return "\n".join(
        [
            "# Haat cluster benchmark: 1, 2 and 3 app nodes behind HAProxy",
            f"{results['when']} · {machine['cores']} cores (os.cpu_count()) shared by every node, "
            f"HAProxy, PostgreSQL and the load generator · Python {machine['python']} · "
            f"gunicorn {WORKERS_PER_NODE} sync workers per node · {SHOPPERS} shoppers flat out · "
            f"{results['seconds']:.0f} s per figure · load average "
            f"{machine['load_average_at_start']} at start, {machine['load_average_at_end']} at end",
            "",
            table(
                rows,
                [
                    "nodes",
                    "workers",
                    "add to cart req/s",
                    "p99 ms",
                    "checkout/s (40 products)",
                    "p99 ms",
                    "checkout/s (one product)",
                    "p99 ms",
                    "errors",
                ],
            ),
            "",
            f"PostgreSQL's own rate for the conditional UPDATE on one row (64 connections): "
            f"{results['raw_updates_per_s']:.0f}/s",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short phases (smoke test)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each figure")
    args, _ = parser.parse_known_args()  # `make bench ARGS=...` also carries bench/run.py's
    seconds = 4.0 if args.quick else args.seconds

    RESULTS.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="haat-bench-cluster-"))
    database_url = fresh_database()
    lb_port, *node_ports, redis_port = [free_port() for _ in range(len(NODE_COUNTS) + 2)]
    cluster = Cluster(
        run_dir=run_dir,
        nodes=max(NODE_COUNTS),
        lb_port=lb_port,
        node_ports=node_ports,
        own_redis_port=redis_port,
        database_url=database_url,
        workers=WORKERS_PER_NODE,
        seed_args=["--images-per-product", "0", "--no-progress", "--no-accounts"],
        log_level="WARNING",
        celery=False,  # the phase measures the web tier
    )
    print(f"Haat cluster benchmark on {os.cpu_count()} cores; starting 3 nodes behind HAProxy...")
    results: dict[str, Any] = {
        "when": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            # Other work on the machine takes cores from the cluster: say how busy it was.
            "load_average_at_start": round(os.getloadavg()[0], 1),
        },
        "workers_per_node": WORKERS_PER_NODE,
        "shoppers": SHOPPERS,
        "seconds": seconds,
        "rows": [],
    }
    try:
        cluster.start()
        setup = json.loads(cluster.python(ROOT / "bench" / "prepare.py", str(SHOPPERS), "10"))
        db = database_url.replace("postgres://", "postgresql://", 1)
        with tqdm(
            total=round(len(NODE_COUNTS) * 2 * seconds + seconds / 4 + 5),
            desc="cluster benchmark",
            unit="tick",
            bar_format="{l_bar}{bar}| {elapsed} elapsed",
        ) as progress:
            for count in NODE_COUNTS:
                serving = cluster.node_names[:count]
                for name in cluster.node_names:
                    cluster.set_server(name, "ready" if name in serving else "maint")
                cluster.wait_servers(
                    {n: "UP" if n in serving else "MAINT" for n in cluster.node_names}
                )
                base = cluster.balancer_url
                add = asyncio.run(load(base, setup, SHOPPERS, seconds, "add", progress, 0.0))
                spread = asyncio.run(
                    checkouts(base, setup, setup["cart_products"], seconds / 2, progress)
                )
                hot = asyncio.run(
                    checkouts(base, setup, [setup["hot_product"]], seconds / 2, progress)
                )
                results["rows"].append(
                    {
                        "nodes": count,
                        "add_to_cart": add.summary(),
                        "checkout": checkout_row(spread),
                        "hot_checkout": checkout_row(hot),
                    }
                )
            results["raw_updates_per_s"] = asyncio.run(
                raw_ceiling(db, setup["hot_product"], 64, seconds / 4, progress)
            )
    except ClusterError as error:
        sys.exit(f"cluster bench: {error}")
    finally:
        cluster.stop()
        if not os.environ.get("BENCH_DATABASE_URL"):
            database_drop(database_url)
        shutil.rmtree(run_dir, ignore_errors=True)

    results["machine"]["load_average_at_end"] = round(os.getloadavg()[0], 1)
    report = render(results)
    print(report)
    stamp = datetime.now(tz=UTC).strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"cluster-{stamp}.json").write_text(json.dumps(results, indent=2))
    (RESULTS / "cluster-latest.json").write_text(json.dumps(results, indent=2))
    (RESULTS / "cluster-latest.md").write_text(report + "\n")
    print("\nResults: bench/results/cluster-latest.md, cluster-latest.json")


if __name__ == "__main__":
    main()
