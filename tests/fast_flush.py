"""A cheaper end for the transactional tests: empty only the tables the test wrote to.

Django ends every transactional test (``transactional_db``, ``live_server``, the browser tests)
with ``manage.py flush``: on PostgreSQL one TRUNCATE of every table, which gives each table and
index new files, synced at commit (about 0.4 s here), then the post_migrate signal, which writes
every content type and permission back (0.3 s). A test writes to a handful of tables. This ends
it with one probe of which tables hold rows and a DELETE from just those, and it keeps the
content types and permissions, which no test changes: the next test finds what flush leaves
(every table empty but those two, sequences not reset) for a fraction of the cost.

Tests that ask for more than that (``reset_sequences``, ``serialized_rollback``,
``available_apps``) keep Django's own flush. tests/test_fast_flush.py compares both.
"""

from __future__ import annotations

from django.db import connections, transaction
from django.test import TransactionTestCase

# What post_migrate writes back after Django's flush: kept instead, as they were migrated.
KEPT_TABLES = frozenset({"django_content_type", "auth_permission"})

_django_fixture_teardown = TransactionTestCase._fixture_teardown  # type: ignore[attr-defined]


def tables_with_rows(alias: str = "default") -> list[str]:
    """The tables of installed models that hold at least one row, in one statement."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    tables = sorted(
        connection.introspection.django_table_names(only_existing=True, include_views=False)
    )
    if not tables:
        return []
    probe = " UNION ALL ".join(
        f"SELECT %s WHERE EXISTS (SELECT 1 FROM {quote(table)})" for table in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(probe, tables)
        return [row[0] for row in cursor.fetchall()]


def empty_written_tables(alias: str = "default") -> list[str]:
    """Delete every row of every table but KEPT_TABLES; returns the tables emptied. Django's
    foreign keys are deferred to commit, so the order of the deletes does not matter."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    with transaction.atomic(using=alias):
        written = [table for table in tables_with_rows(alias) if table not in KEPT_TABLES]
        with connection.cursor() as cursor:
            for table in written:
                cursor.execute(f"DELETE FROM {quote(table)}")
    return written


def _fixture_teardown(self: TransactionTestCase) -> None:
    if self.reset_sequences or self.serialized_rollback or self.available_apps is not None:
        _django_fixture_teardown(self)
        return
    for alias in self._databases_names(include_mirrors=False):  # type: ignore[attr-defined]
        empty_written_tables(alias)


def install() -> None:
    TransactionTestCase._fixture_teardown = _fixture_teardown  # type: ignore[attr-defined]
