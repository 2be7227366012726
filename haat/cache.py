"""The shared cache's backends: Django's Redis cache with one client per connection pool, and
Django's database cache with an atomic ``incr``.

Redis: Django builds a new ``redis.Redis`` for every cache call, and building one fills a
dictionary of some 170 response callbacks; a session read and each rate-limit count paid for
that. The client is thread-safe and only wraps the pool, so it is built once per pool.

The database cache is the shared fallback when Redis is not configured. Django's generic
``incr`` reads and writes in two steps, so two processes counting the same rate-limit window
could both write ``n + 1``; here the row is locked first, so every request is counted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from django.db import connections, router, transaction


class RedisCacheClient(DjangoRedisCacheClient):
    # Set by Django's client; the type stubs leave them out.
    _servers: list[str]
    _pools: dict[int, Any]
    _pool_class: Any
    _pool_options: dict[str, Any]
    _client: Any
    _get_connection_pool_index: Callable[[bool], int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(
                    self._servers[index], **self._pool_options
                )
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient


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
