"""The store's hand-written hot paths against the same work through the Django ORM, without
HTTP: per operation, the median over several runs, on SQLite and on PostgreSQL.

    .venv/bin/python bench/hot_path.py                    # both databases, a few minutes
    .venv/bin/python bench/hot_path.py --runs 5 --ops 100 # shorter
    .venv/bin/python bench/hot_path.py --baseline /tmp/old/haat/store/database.py

``--baseline`` also times another version of the store (e.g. from a checkout of main) in the
same process, its batches alternating with the others: before/after figures on a busy machine.
``--cpu`` measures this process's CPU time instead of elapsed time: on a machine shared with
other work it shows the Python cost of each side without the time spent waiting for a core
(with PostgreSQL, the server's own work is then left out). ``--calls`` counts the Python
function calls per operation instead (cProfile): the same on any machine, however busy.

Each database is a fresh one (a temporary SQLite file; ``haat_bench_hot_<pid>`` on the local
PostgreSQL, dropped afterwards), migrated, with one shopper and a few products. Operations:
a cart quantity change, a cart line added then removed, a cart read, and (PostgreSQL) the
reservation of one unit with its ledger row. The ORM side is the ORM code the hot paths
replaced; hot and ORM batches alternate so drift in the machine's load hits both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


# ------------------------------------------------------------------------ inside Django
def measure(runs: int, ops: int, baseline: str | None, clock_name: str) -> dict[str, Any]:
    import cProfile
    import importlib.util
    import pstats

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import F, OuterRef, Subquery

    from accounts.models import User
    from cart.models import Cart, CartLine
    from catalog.models import Category, Product, ProductImage, StockMovement
    from catalog.services import stock_adjust
    from haat.store.base import ProductState
    from haat.store.database import DatabaseStore

    call_command("migrate", verbosity=0)
    store = DatabaseStore()
    before = store
    if baseline:
        spec = importlib.util.spec_from_file_location("haat.store.baseline_database", baseline)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        before = module.DatabaseStore()
    shopper = User.objects.create_user(email="bench-hot@example.com", password=None)
    category = Category.objects.create(name="Bench", slug="bench")
    ids = []
    for n in range(4):
        product = Product.objects.create(
            category=category, name=f"Item {n}", slug=f"item-{n}", price_minor=1000 + n
        )
        stock_adjust(product_id=product.pk, delta=10_000_000, reason="initial")
        ids.append(product.pk)
    kept, toggled = ids[:3], ids[3]
    store.cart_update(shopper.pk, kept, lambda lines, products: dict.fromkeys(kept, 1))

    # The ORM code the hot paths replaced (the store before plain SQL).
    def orm_products(wanted: set[int]) -> dict[int, ProductState]:
        first_image = ProductImage.objects.filter(product=OuterRef("pk")).order_by("position", "id")
        rows = (
            Product.objects.filter(pk__in=wanted)
            .annotate(first_image=Subquery(first_image.values("image")[:1]))
            .values_list(
                "pk", "slug", "name", "price_minor", "stock", "is_published", "first_image"
            )
        )
        return {row[0]: ProductState(*row[:6], "") for row in rows}

    def orm_cart_update(user_id: int, product_ids: list[int], change: Callable) -> None:
        with transaction.atomic():
            cart = Cart.objects.select_for_update().filter(user_id=user_id).first()
            if cart is None:
                Cart.objects.bulk_create([Cart(user_id=user_id)], ignore_conflicts=True)
                cart = Cart.objects.select_for_update().get(user_id=user_id)
            rows = CartLine.objects.filter(cart=cart).order_by("added_at", "id")
            before = dict(rows.values_list("product_id", "quantity"))
            after = change(dict(before), orm_products(set(product_ids) | set(before)))
            if after == before:
                return
            removed = [pk for pk in before if pk not in after]
            if removed:
                CartLine.objects.filter(cart=cart, product_id__in=removed).delete()
            for product_id, quantity in after.items():
                if product_id not in before:
                    CartLine.objects.create(cart=cart, product_id=product_id, quantity=quantity)
                elif before[product_id] != quantity:
                    CartLine.objects.filter(cart=cart, product_id=product_id).update(
                        quantity=quantity
                    )
            cart.version += 1
            cart.save(update_fields=["version", "updated_at"])

    def orm_cart_get(user_id: int) -> None:
        cart = Cart.objects.filter(user_id=user_id).values_list("pk", "version").first()
        if cart is not None:
            lines = CartLine.objects.filter(cart_id=cart[0]).order_by("added_at", "id")
            dict(lines.values_list("product_id", "quantity"))

    def orm_reserve(product_id: int) -> None:
        with transaction.atomic():
            Product.objects.filter(pk=product_id, stock__gte=1).update(stock=F("stock") - 1)
            name, stock = Product.objects.values_list("name", "stock").get(pk=product_id)
            StockMovement.objects.create(
                product_id=product_id,
                product_name=name,
                reason="reservation",
                delta=-1,
                resulting_stock=stock,
                reference="bench",
            )

    def quantity(n: int) -> Callable:
        return lambda lines, products: {**lines, kept[0]: 1 + n % 2}

    def add_or_remove(n: int) -> Callable:
        if n % 2 == 0:
            return lambda lines, products: {**lines, toggled: 1}
        return lambda lines, products: {k: v for k, v in lines.items() if k != toggled}

    Work = Callable[[int], object]

    def cases_for(hot: Any) -> dict[str, Work]:
        cases: dict[str, Work] = {
            "cart: change a quantity": lambda n: hot.cart_update(
                shopper.pk, [kept[0]], quantity(n)
            ),
            "cart: add a line, remove it": lambda n: hot.cart_update(
                shopper.pk, [toggled], add_or_remove(n)
            ),
            "cart: read": lambda n: hot.cart_get(shopper.pk),
        }
        if connection.vendor == "postgresql":
            cases["reserve 1 unit + ledger row"] = lambda n: hot.stock_take_recorded(
                {ids[1]: 1}, reason="reservation", reference="bench", actor_id=None
            )
        return cases

    orm: dict[str, Work] = {
        "cart: change a quantity": lambda n: orm_cart_update(shopper.pk, [kept[0]], quantity(n)),
        "cart: add a line, remove it": lambda n: orm_cart_update(
            shopper.pk, [toggled], add_or_remove(n)
        ),
        "cart: read": lambda n: orm_cart_get(shopper.pk),
        "reserve 1 unit + ledger row": lambda n: orm_reserve(ids[1]),
    }
    sides = {"hot": cases_for(store), "orm": orm}
    if baseline:
        sides["baseline"] = cases_for(before)

    clock = time.process_time if clock_name == "cpu" else time.perf_counter
    results: dict[str, Any] = {}
    for name in sides["hot"]:
        for warm in range(20):
            for works in sides.values():
                works[name](warm)
        timings: dict[str, list[float]] = {side: [] for side in sides}
        for _ in range(1 if clock_name == "calls" else runs):
            for side, works in sides.items():
                if clock_name == "calls":
                    profile = cProfile.Profile()
                    profile.enable()
                    for n in range(ops):
                        works[name](n)
                    profile.disable()
                    calls = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
                    timings[side].append(calls / ops)
                    continue
                began = clock()
                for n in range(ops):
                    works[name](n)
                timings[side].append((clock() - began) / ops * 1000)
        results[name] = {side: statistics.median(values) for side, values in timings.items()}
    return {"vendor": connection.vendor, "runs": runs, "ops": ops, "results": results}


# ------------------------------------------------------------------------ the driver
def run_child(
    database_url: str, runs: int, ops: int, baseline: str | None, clock: str
) -> dict[str, Any]:
    data_dir = tempfile.mkdtemp(prefix="haat-bench-hot-")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "haat.settings",
        "DJANGO_DEBUG": "false",  # no query log: production's cost per query
        "HAAT_DATA_DIR": data_dir,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
    }
    args = [sys.executable, __file__, "--child", "--runs", str(runs), "--ops", str(ops)]
    if baseline:
        args += ["--baseline", baseline]
    args += ["--clock", clock]
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        sys.exit(f"benchmark failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="batches per side (median taken)")
    parser.add_argument("--ops", type=int, default=200, help="operations per batch")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--baseline", help="another haat/store/database.py to time alongside")
    measures = parser.add_mutually_exclusive_group()
    measures.add_argument("--cpu", action="store_true", help="CPU time of this process")
    measures.add_argument("--calls", action="store_true", help="Python calls per operation")
    parser.add_argument("--clock", default="elapsed", help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(measure(args.runs, args.ops, args.baseline, args.clock)))
        return
    clock = "cpu" if args.cpu else "calls" if args.calls else "elapsed"

    load_before = os.getloadavg()
    reports = []
    if args.only in (None, "sqlite"):
        reports.append(run_child("", args.runs, args.ops, args.baseline, clock))
    if args.only in (None, "postgresql"):
        import psycopg

        name = f"haat_bench_hot_{os.getpid()}"
        with psycopg.connect(LOCAL_PG, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        try:
            url = f"postgres://postgres@127.0.0.1:5432/{name}"
            reports.append(run_child(url, args.runs, args.ops, args.baseline, clock))
        finally:
            with psycopg.connect(LOCAL_PG, autocommit=True, connect_timeout=3) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    unit = {"cpu": "median CPU ms", "elapsed": "median elapsed ms", "calls": "Python calls"}
    batches = "" if clock == "calls" else f"{args.runs} batches of "
    print(f"{unit[clock]} per operation, {batches}{args.ops} operations; ", end="")
    print(f"{os.cpu_count()} cores, load average before: {load_before}")
    header = "| database | operation | hot path | ORM | ORM / hot |"
    if args.baseline:
        header += " baseline hot path | this / baseline |"
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    fmt = ".0f" if clock == "calls" else ".3f"
    for report in reports:
        for name, figures in report["results"].items():
            hot, orm = figures["hot"], figures["orm"]
            row = f"| {report['vendor']} | {name} | {hot:{fmt}} | {orm:{fmt}} | {orm / hot:.1f}x |"
            if "baseline" in figures:
                row += f" {figures['baseline']:{fmt}} | {hot / figures['baseline']:.2f} |"
            print(row)
    print(f"load average after the run: {os.getloadavg()}")


if __name__ == "__main__":
    main()
