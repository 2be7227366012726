"""Set-up for the cluster tests, run inside the cluster's own environment (its database and
SECRET_KEY): shoppers with ready sessions, products with stock, accounts with passwords.

    python tests/cluster/prepare.py '{"shoppers": 1000, "products": [10], "accounts": [...]}'

Prints JSON: {"shoppers": [{"user_id", "session", "csrf"}], "products": [ids], "accounts": [ids]}.
Sessions are made by the configured session engine, so they live wherever the nodes look."""

from __future__ import annotations

import json
import os
import sys
from importlib import import_module
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haat.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402

from accounts.models import User  # noqa: E402
from catalog.models import Category, Product, StockMovement  # noqa: E402
from catalog.services import stock_adjust  # noqa: E402


def shoppers(count: int) -> list[dict[str, object]]:
    batch = get_random_string(8).lower()
    users = User.objects.bulk_create(
        [User(email=f"cluster-{batch}-{i}@cluster.invalid", password="!") for i in range(count)],
        batch_size=500,
    )
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    made = []
    for user in users:
        store = store_class()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        made.append(
            {"user_id": user.pk, "session": store.session_key, "csrf": get_random_string(32)}
        )
    return made


def products(units: list[int]) -> list[int]:
    category, _ = Category.objects.get_or_create(
        slug="cluster-tests", defaults={"name": "Cluster tests"}
    )
    ids = []
    for stock in units:
        product = Product.objects.create(
            category=category,
            name=f"Cluster test product {get_random_string(6)}",
            slug=f"cluster-{get_random_string(10).lower()}",
            price_minor=50000,
        )
        stock_adjust(product_id=product.pk, delta=stock, reason=StockMovement.Reason.INITIAL)
        ids.append(product.pk)
    return ids


def accounts(specs: list[dict[str, str]]) -> list[int]:
    return [User.objects.create_user(email=s["email"], password=s["password"]).pk for s in specs]


if __name__ == "__main__":
    spec = json.loads(sys.argv[1])
    print(
        json.dumps(
            {
                "shoppers": shoppers(spec.get("shoppers", 0)),
                "products": products(spec.get("products", [])),
                "accounts": accounts(spec.get("accounts", [])),
            }
        )
    )
