"""Sessions in the database, read through the shared (Redis) cache.

Django's ``cached_db`` already falls back to the database when a cache read fails; this store
also survives a failing cache write or delete, so a Redis outage costs speed, never a 500. The
database row stays the truth: sign-out deletes it first, so a session is over even when the
cache cannot be reached (and Redis keeps nothing across a restart here)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.contrib.sessions.backends import cached_db
from django.core.cache import BaseCache

log = logging.getLogger(__name__)


class SessionStore(cached_db.SessionStore):
    # Set by Django's stores; the type stubs leave them out.
    _cache: BaseCache
    _get_session_from_db: Callable[[], Any]

    def load(self) -> dict:
        try:
            data = self._cache.get(self.cache_key)
        except Exception:  # cache down, or a key the backend refuses: read the database
            data = None
        if data is not None:
            return data
        row = self._get_session_from_db()
        if not row:
            return {}
        data = self.decode(row.session_data)
        try:
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=row.expire_date))
        except Exception:
            log.warning("Session cache unavailable; served the session from the database")
        return data

    def exists(self, session_key: str) -> bool:
        try:
            if session_key and (self.cache_key_prefix + session_key) in self._cache:
                return True
        except Exception:
            log.warning("Session cache unavailable; asked the database whether a key exists")
        return super(cached_db.SessionStore, self).exists(session_key)

    def delete(self, session_key: str | None = None) -> None:
        key = session_key or self.session_key
        # The database row goes first: once it is gone the session is over on every process.
        super(cached_db.SessionStore, self).delete(session_key)
        if key is None:
            return
        try:
            self._cache.delete(self.cache_key_prefix + key)
        except Exception:
            log.error("Session cache unavailable while deleting session; database row deleted")
