"""Which database errors mean "busy, try again": a lock wait or a statement ran out of time.

PostgreSQL ends them with ``lock_timeout`` (SQLSTATE 55P03, lock_not_available) and
``statement_timeout`` (57014, query_canceled), both set per connection in settings. Nothing was
changed: the transaction they happened in is rolled back."""

from __future__ import annotations

from django.db import OperationalError

from haat.errors import StoreBusy

BUSY_SQLSTATES = {"55P03", "57014"}


def store_busy_from(error: BaseException) -> StoreBusy | None:
    """The ``StoreBusy`` refusal for a database error that means "busy", else None."""
    if not isinstance(error, OperationalError):
        return None
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) in BUSY_SQLSTATES:
        return StoreBusy()
    return None
