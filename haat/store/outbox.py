"""The transactional outbox of product changes bound for an external store (Sanity).

``mark`` runs inside the transaction that changes the products: it bumps each product's outbox
``version``, so the change and the promise to deliver it commit or roll back together. A worker
then ``claim``s due rows with one conditional UPDATE (a claim holds for ``CLAIM_SECONDS``; a
worker that died is replaced after that), reads each product's state together with its version
(``claimed_states``), sends it, and records the result (``delivered`` or
``failed``, which schedules a retry with backoff). Claiming, reading and recording are short
autocommitted statements of one row each: no row stays locked while the store is asked
anything, and none waits for a second row while holding a first.

The SQL is portable between SQLite (3.35+) and PostgreSQL; table names come from the models.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from catalog.models import StoreOutbox
from haat.store.base import ProductState

CLAIM_SECONDS = 120
MAX_BACKOFF_SECONDS = 600

OUTBOX = StoreOutbox._meta.db_table


@dataclass(frozen=True)
class Claimed:
    product_id: int
    version: int
    state: ProductState | None  # None: the product is gone, so is its copy


def _marks(count: int) -> str:
    return ", ".join(["%s"] * count)


def mark(product_ids: Iterable[int], *, floors: Mapping[int, int] | None = None) -> list[int]:
    """Record that these products changed (call inside the transaction that changes them).
    ``floors`` lifts a product's version above a version the store already holds (the
    reconciliation uses it, e.g. after the database was restored from a backup). Rows are
    touched in ascending id, like every stock change, so marks never deadlock."""
    ids = sorted({int(pk) for pk in product_ids} | set(floors or {}))
    if not ids:
        return []
    now = timezone.now()
    rows: list[Any] = []
    for product_id in ids:
        rows += [product_id, (floors or {}).get(product_id, 0) + 1, now, now]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {OUTBOX} (product_id, version, delivered_version, attempts, due_at, "
            "claim_token, last_error, changed_at) VALUES "
            + ", ".join(["(%s, %s, 0, 0, %s, '', '', %s)"] * len(ids))
            + " ON CONFLICT (product_id) DO UPDATE SET "
            f"version = CASE WHEN {OUTBOX}.version >= excluded.version "
            f"THEN {OUTBOX}.version + 1 ELSE excluded.version END, "
            "attempts = 0, due_at = excluded.due_at, changed_at = excluded.changed_at",
            rows,
        )
    return ids


def claim(
    product_ids: Iterable[int] | None = None, *, limit: int = 100, ignore_backoff: bool = False
) -> tuple[str, list[int]]:
    """Claim up to ``limit`` rows with undelivered changes (of ``product_ids``, or any) that
    nobody else holds. Returns (claim token, claimed product ids). Each row is claimed by its
    own conditional UPDATE, so two workers never hold the same row (the conditions are checked
    on the row as it is when the UPDATE gets to it) and a claim never holds one row while
    waiting for another (no deadlock with a checkout that is marking its products)."""
    now = timezone.now()
    token = secrets.token_hex(16)
    conditions = "version > delivered_version AND (claimed_until IS NULL OR claimed_until < %s)"
    condition_params: list[Any] = [now]
    if not ignore_backoff:
        conditions += " AND due_at <= %s"
        condition_params.append(now)
    candidates = f"SELECT product_id FROM {OUTBOX} WHERE {conditions}"
    wanted: list[int] = []
    if product_ids is not None:
        wanted = sorted({int(pk) for pk in product_ids})
        if not wanted:
            return token, []
        candidates += f" AND product_id IN ({_marks(len(wanted))})"
    claimed: list[int] = []
    with connection.cursor() as cursor:
        cursor.execute(
            f"{candidates} ORDER BY due_at, product_id LIMIT %s",
            [*condition_params, *wanted, limit],
        )
        for (product_id,) in cursor.fetchall():
            cursor.execute(
                f"UPDATE {OUTBOX} SET claimed_until = %s, claim_token = %s "
                f"WHERE product_id = %s AND {conditions}",
                [now + timedelta(seconds=CLAIM_SECONDS), token, product_id, *condition_params],
            )
            if cursor.rowcount == 1:
                claimed.append(int(product_id))
    return token, sorted(claimed)


def claimed_states(token: str) -> list[Claimed]:
    """The claimed products as they are now, each with the version its state carries. The
    versions are read first and the states after: every change bumps the version in its own
    transaction, so a state is never older than the version it is sent with (at worst newer,
    and then a higher version is still due and is sent next)."""
    from haat.store.database import DatabaseStore

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT product_id, version FROM {OUTBOX} WHERE claim_token = %s ORDER BY product_id",
            [token],
        )
        versions = {int(pk): int(version) for pk, version in cursor.fetchall()}
    states = DatabaseStore().products(versions)
    return [Claimed(pk, version, states.get(pk)) for pk, version in versions.items()]


def delivered(token: str, versions: Mapping[int, int]) -> None:
    """The store holds these versions now (or newer): release the claims. A row whose version
    grew meanwhile stays due, and the next claim sends the newer state."""
    with connection.cursor() as cursor:
        for product_id, version in sorted(versions.items()):
            cursor.execute(
                f"UPDATE {OUTBOX} SET delivered_version = CASE WHEN delivered_version < %s "
                "THEN %s ELSE delivered_version END, attempts = 0, last_error = '', "
                "claimed_until = NULL, claim_token = '' WHERE product_id = %s AND claim_token = %s",
                [version, version, product_id, token],
            )


def failed(token: str, error: str) -> None:
    """Delivery failed (the store answered 5xx, timed out, stayed busy): release the claims and
    try again later, waiting 5 s, 10 s, 20 s … at most ``MAX_BACKOFF_SECONDS``."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT product_id, attempts FROM {OUTBOX} WHERE claim_token = %s", [token])
        for product_id, attempts in cursor.fetchall():
            wait = min(MAX_BACKOFF_SECONDS, 5 * 2 ** min(int(attempts), 10))
            cursor.execute(
                f"UPDATE {OUTBOX} SET attempts = attempts + 1, due_at = %s, last_error = %s, "
                "claimed_until = NULL, claim_token = '' WHERE product_id = %s AND claim_token = %s",
                [_later(now, wait), error[:255], product_id, token],
            )


def pending_ids() -> list[int]:
    """Products with changes not yet delivered."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT product_id FROM {OUTBOX} WHERE version > delivered_version")
        return [int(row[0]) for row in cursor.fetchall()]


def _later(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)
