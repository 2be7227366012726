"""Django's database cache with an atomic ``incr``.

The database cache is the shared fallback when Redis is not configured. Django's generic
``incr`` reads and writes in two steps, so two processes counting the same rate-limit window
could both write ``n + 1``; here the row is locked first, so every request is counted."""

from __future__ import annotations

from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, router, transaction


class DatabaseCache(DjangoDatabaseCache):
    _table: str  # set by Django's BaseDatabaseCache; the type stubs leave it out

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        table = connection.ops.quote_name(self._table)
        stored_key = self.make_and_validate_key(key, version=version)
        # SQLite has no FOR UPDATE; its IMMEDIATE transactions (see settings) serialise writers.
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        with transaction.atomic(using=db):
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT cache_key FROM {table} WHERE cache_key = %s{lock}",  # noqa: S608
                    [stored_key],
                )
            return super().incr(key, delta, version)
