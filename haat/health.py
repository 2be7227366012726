"""Readiness checks for the load balancer: can this process serve shoppers right now?

Each check reads only and answers within a bounded time; a failing check names the error's
type (details go to the log, not to whoever asked)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

log = logging.getLogger(__name__)

REDIS_TIMEOUT_SECONDS = 0.5


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    ms: float
    error: str = ""

    def as_dict(self) -> dict[str, object]:
        answer: dict[str, object] = {"ok": self.ok, "ms": self.ms}
        if self.error:
            answer["error"] = self.error
        return answer


def database_check() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def redis_check() -> None:
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    finally:
        client.close()


class MigrationsPending(Exception):
    """Some migrations are not applied yet: this code would read tables that are not there."""


_migrations_done = False


def migrations_check() -> None:
    """No migration is waiting. Once true it stays true for the life of the process (new
    migrations arrive with new code, which means a new process), so the migration graph is
    loaded only until then."""
    global _migrations_done
    if _migrations_done:
        return
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    waiting = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if waiting:
        names = ", ".join(f"{migration.app_label}.{migration.name}" for migration, _ in waiting)
        raise MigrationsPending(f"{len(waiting)} unapplied migration(s): {names}")
    _migrations_done = True


def readiness_checks() -> dict[str, Callable[[], None]]:
    checks: dict[str, Callable[[], None]] = {"database": database_check}
    if getattr(settings, "REDIS_URL", ""):
        checks["redis"] = redis_check
    checks["migrations"] = migrations_check
    return checks


def readiness() -> tuple[bool, dict[str, CheckResult]]:
    """Run every check (each even when an earlier one failed, so the answer shows them all)."""
    results: dict[str, CheckResult] = {}
    for name, check in readiness_checks().items():
        started = time.perf_counter()
        try:
            check()
        except Exception as error:
            log.warning("readiness check %s failed: %s", name, error)
            results[name] = CheckResult(False, _ms_since(started), type(error).__name__)
        else:
            results[name] = CheckResult(True, _ms_since(started))
    return all(result.ok for result in results.values()), results


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
