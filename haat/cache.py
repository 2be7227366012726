"""Django's database cache with an atomic ``incr``, and its Redis cache with one client per
server instead of one per call.

The database cache is the shared fallback when Redis is not configured. Django's generic
``incr`` reads and writes in two steps, so two processes counting the same rate-limit window
could both write ``n + 1``; here the row is locked first, so every request is counted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.cache.backends import redis as redis_backend
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


class _RedisCacheClient(redis_backend.RedisCacheClient):
    """Django's Redis client makes a new ``redis.Redis`` (and its table of reply parsers, some
    170 entries) for every cache call: half a millisecond of CPU each, four to six times a page.
    One per connection pool is enough (``redis.Redis`` is thread-safe; the pool does the rest)."""

    # Set by Django's client; the type stubs leave them out.
    _client: Any
    _get_connection_pool: Callable[[bool], Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # kept for the process's life: its id is stable
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(redis_backend.RedisCache):
    """Django's Redis cache with one client per server (see ``_RedisCacheClient``)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _RedisCacheClient
