"""Bench set-up inside Haat's environment: shoppers with ready sessions, and bench products.

Run by bench/run.py with the server's environment; prints a JSON description to stdout."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haat.settings")

import django

django.setup()

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402

from accounts.models import User  # noqa: E402
from catalog.models import Category, Product  # noqa: E402
from catalog.services import stock_adjust  # noqa: E402


def main(shoppers: int, flash_units: int) -> dict:
    category, _ = Category.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    cart_products = []
    for n in range(40):
        product, created = Product.objects.get_or_create(
            slug=f"bench-item-{n}",
            defaults={"category": category, "name": f"Bench item {n}", "price_minor": 10000 + n},
        )
        if created:
            stock_adjust(product_id=product.pk, delta=1_000_000, reason="initial", note="bench")
        cart_products.append(product.pk)
    flash = Product.objects.create(
        category=category,
        name="Flash sale kettle",
        slug=f"bench-flash-{get_random_string(6).lower()}",
        price_minor=99900,
    )
    stock_adjust(product_id=flash.pk, delta=flash_units, reason="initial", note="bench flash sale")
    hot = Product.objects.create(
        category=category,
        name="Hot product",
        slug=f"bench-hot-{get_random_string(6).lower()}",
        price_minor=50000,
    )
    stock_adjust(product_id=hot.pk, delta=10_000_000, reason="initial", note="bench hot product")

    existing = User.objects.filter(email__startswith="bench-shopper-").count()
    users = [
        User(email=f"bench-shopper-{i}@bench.invalid", password="!")
        for i in range(existing, shoppers)
    ]
    User.objects.bulk_create(users, batch_size=500)
    sessions = []
    for user in User.objects.filter(email__startswith="bench-shopper-").order_by("pk")[:shoppers]:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions.append(
            {"user_id": user.pk, "session": store.session_key, "csrf": get_random_string(32)}
        )
    browse = list(
        Product.objects.filter(is_published=True)
        .exclude(category=category)
        .values_list("slug", flat=True)[:200]
    )
    categories = list(Category.objects.exclude(pk=category.pk).values_list("slug", flat=True))
    return {
        "shoppers": sessions,
        "cart_products": cart_products,
        "flash_product": flash.pk,
        "flash_units": flash_units,
        "hot_product": hot.pk,
        "browse_slugs": browse,
        "category_slugs": categories,
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), int(sys.argv[2]))))
