"""``get_store()`` returns the configured storage backend (``STORE_BACKEND``, default database)."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from haat.store.base import (
    CartContents,
    ProductState,
    Store,
    WishlistContents,
    WishlistEntry,
)

__all__ = [
    "CartContents",
    "ProductState",
    "Store",
    "WishlistContents",
    "WishlistEntry",
    "get_store",
]


def get_store() -> Store:
    return _store_for(settings.STORE_BACKEND)


@cache
def _store_for(backend: str) -> Store:
    if backend == "database":
        from haat.store.database import DatabaseStore

        return DatabaseStore()
    raise ImproperlyConfigured(f"Unknown STORE_BACKEND {backend!r}; use 'database'.")
