"""``get_store()`` returns the configured storage backend (``STORE_BACKEND``, default database)."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from haat.store.base import (
    AlertWanted,
    CartContents,
    ProductState,
    Store,
    WishlistContents,
    WishlistEntry,
)

__all__ = [
    "AlertWanted",
    "CartContents",
    "ProductState",
    "Store",
    "WishlistContents",
    "WishlistEntry",
    "get_store",
]


def get_store() -> Store:
    if settings.STORE_BACKEND == "sanity":
        return _store_for(
            "sanity", settings.SANITY_API_HOST, settings.SANITY_PROJECT_ID, settings.SANITY_DATASET
        )
    return _store_for(settings.STORE_BACKEND)


@cache
def _store_for(backend: str, *where: str) -> Store:
    if backend == "database":
        from haat.store.database import DatabaseStore

        return DatabaseStore()
    if backend == "sanity":
        from haat.store.sanity import SanityStore

        return SanityStore()
    raise ImproperlyConfigured(f"Unknown STORE_BACKEND {backend!r}; use 'database' or 'sanity'.")
