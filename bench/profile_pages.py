"""Profile the floor benchmark's endpoints in one process with pyinstrument (Django's test
client, production settings, the benchmark's data): where each request's CPU time goes.

    .venv/bin/python bench/profile_pages.py --prepare   # fresh database haat_floor_profile
    .venv/bin/python bench/profile_pages.py [product cart ...] [--requests 200] [--html DIR]

``--database NAME`` and ``--redis URL`` (both runs alike) keep two people's profiles apart.

Prints, per endpoint, the CPU time per request, the queries per request and pyinstrument's
call tree over the batch (``--html DIR`` also writes one HTML profile per endpoint).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Defaults of --database and --redis (also from HAAT_PROFILE_DATABASE, HAAT_PROFILE_REDIS).
DATABASE = os.environ.get("HAAT_PROFILE_DATABASE", "haat_floor_profile")
REDIS_URL = os.environ.get("HAAT_PROFILE_REDIS", "redis://127.0.0.1:6379/14")


def setup_file(database: str) -> Path:
    return Path(tempfile.gettempdir()) / f"{database}.json"


def environment(database: str, redis_url: str) -> dict[str, str]:
    sys.path.insert(0, str(ROOT / "bench"))
    from run import server_env

    url = f"postgres://postgres@127.0.0.1:5432/{database}"
    env = server_env(url, Path(tempfile.gettempdir()) / f"haat-{database}")
    env.update(
        SECRET_KEY="profile-" + "k" * 50,
        ALLOWED_HOSTS="testserver,127.0.0.1",
        BENCH_FLOOR_ENDPOINT="true",
        REDIS_URL=redis_url,
        DJANGO_SETTINGS_MODULE="haat.settings",
    )
    return env


def prepare(database: str, redis_url: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {database}")
    env = environment(database, redis_url)
    py = sys.executable
    for args, extra in (
        (["manage.py", "migrate", "--noinput", "-v0"], {}),
        (["manage.py", "collectstatic", "--noinput", "-v0"], {}),
        (
            [
                "manage.py",
                "seed_demo",
                "--images-per-product",
                "0",
                "--no-progress",
                "--no-accounts",
            ],
            {"HAAT_ENV": "development"},
        ),
    ):
        subprocess.run([py, *args], cwd=ROOT, env=env | extra, check=True)
    out = subprocess.run(
        [py, "bench/prepare.py", "60", "10"], cwd=ROOT, env=env, check=True, capture_output=True
    ).stdout
    setup_file(database).write_text(out.decode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("endpoints", nargs="*")
    parser.add_argument("--prepare", action="store_true")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--html", type=Path)
    parser.add_argument("--no-profile", action="store_true", help="CPU time and queries only")
    parser.add_argument(
        "--database", default=DATABASE, help="PostgreSQL database (--prepare: fresh)"
    )
    parser.add_argument("--redis", default=REDIS_URL, help="the shared cache's Redis database")
    args = parser.parse_args()
    if not args.database.isidentifier():
        raise SystemExit(f"not a database name: {args.database!r}")
    if args.prepare:
        prepare(args.database, args.redis)
        return
    os.environ.update(environment(args.database, args.redis))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from pyinstrument import Profiler

    setup = json.loads(setup_file(args.database).read_text())
    shopper = setup["shoppers"][0]
    checkout_shopper = setup["shoppers"][1]
    client = Client(enforce_csrf_checks=False)
    client.cookies["sessionid"] = shopper["session"]
    buyer = Client()
    buyer.cookies["sessionid"] = checkout_shopper["session"]
    for product in setup["cart_products"][:3]:
        client.post("/api/cart/lines", {"product_id": product, "quantity": 1}, "application/json")
    adder = Client()
    adder.cookies["sessionid"] = setup["shoppers"][2]["session"]
    products = setup["cart_products"]
    browse = setup["browse_slugs"]
    categories = setup["category_slugs"]

    def call(name: str, n: int) -> int:
        if name == "floor":
            return client.get("/bench/floor").status_code
        if name == "add_api":
            body = {"product_id": products[n % len(products)], "quantity": 1}
            return adder.post("/api/cart/lines", body, "application/json").status_code
        if name == "add_form":
            body = {"product_id": products[n % len(products)], "quantity": "1"}
            return adder.post("/cart/add/", body).status_code
        if name == "product":
            return client.get(f"/p/{browse[n % len(browse)]}/").status_code
        if name == "category":
            return client.get(f"/c/{categories[n % len(categories)]}/").status_code
        if name == "home":
            return client.get("/").status_code
        if name == "cart":
            return client.get("/cart/").status_code
        if name == "checkout":
            body = {"buy_now": {"product_id": setup["hot_product"], "quantity": 1}}
            return buyer.post("/api/checkout", body, "application/json").status_code
        raise SystemExit(f"unknown endpoint {name}")

    names = args.endpoints or [
        "floor",
        "add_api",
        "add_form",
        "product",
        "category",
        "home",
        "cart",
        "checkout",
    ]
    for name in names:
        for n in range(5):  # warm: imports, templates, connections
            call(name, n)
        with CaptureQueriesContext(connection) as queries:
            status = call(name, 5)
        # Copied now: captured_queries reads the log lazily, and each request empties it.
        sqls = [query["sql"] for query in queries.captured_queries]
        # First without the profiler (its hooks slow calls down unevenly), then with it.
        cpu = time.process_time()
        for n in range(args.requests):
            call(name, n)
        cpu = (time.process_time() - cpu) * 1000 / args.requests
        print(f"\n===== {name}: {cpu:.2f} ms CPU per request, {len(sqls)} queries, {status}")
        for sql in sqls:
            print("   ", sql[:160])
        if args.no_profile:
            continue
        profiler = Profiler(interval=0.0002)
        profiler.start()
        for n in range(args.requests):
            call(name, n)
        profiler.stop()
        print(profiler.output_text(unicode=False, show_all=False))
        if args.html:
            args.html.mkdir(parents=True, exist_ok=True)
            (args.html / f"{name}.html").write_text(profiler.output_html())


if __name__ == "__main__":
    main()
