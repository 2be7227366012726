"""Sessions in the database, read through the shared (Redis) cache.

Django's ``cached_db`` already falls back to the database when a cache read fails; this store
also survives a failing cache write or delete, so a Redis outage costs speed, never a 500. The
database row stays the truth: sign-out deletes it first, so a session is over even when the
cache cannot be reached (and Redis keeps nothing across a restart here).

A few keys of the shared cache that nearly every page reads (the categories' version, which
the header's menu is keyed by) are read in the session's round trip rather than one of their
own: their owners name them with ``read_with_session`` and take the value with ``read_along``.
The session is read at the start of the request, so the value is as fresh as a read of its own."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends import cached_db
from django.core.cache import DEFAULT_CACHE_ALIAS, BaseCache

log = logging.getLogger(__name__)

# Keys of the "default" cache read with every session (``read_with_session``).
_READ_ALONG: list[str] = []


def read_with_session(key: str) -> None:
    """Read ``key`` of the "default" cache with each session, in the same round trip."""
    if key not in _READ_ALONG:
        _READ_ALONG.append(key)


def read_along(session: object, key: str) -> Any:
    """``key``'s value as read with ``session`` (loading it, when it has a key and is not read
    yet: the request's user needs it anyway); None when it was not read with the session (no
    session, a session store of another kind, the key missing in the cache)."""
    if getattr(session, "session_key", None) and not hasattr(session, "values_read_along"):
        session.items()  # type: ignore[attr-defined]  # loads it
    return getattr(session, "values_read_along", {}).get(key)


class SessionStore(cached_db.SessionStore):
    # Set by Django's stores; the type stubs leave them out.
    _cache: BaseCache
    _get_session_from_db: Callable[[], Any]
    values_read_along: dict[str, Any]  # the keys read with the session (``read_along``)

    def load(self) -> dict:
        try:
            if _READ_ALONG and settings.SESSION_CACHE_ALIAS == DEFAULT_CACHE_ALIAS:
                self.values_read_along = self._cache.get_many([self.cache_key, *_READ_ALONG])
                data = self.values_read_along.get(self.cache_key)
            else:
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
