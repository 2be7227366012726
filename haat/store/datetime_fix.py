"""One-off data fix for SQLite: datetimes that the store's hand-written SQL once stored as text
with a UTC offset (``2026-12-01 10:40:30.123456+00:00``) are rewritten the way the ORM stores
them (naive UTC, ``2026-12-01 10:40:30.123456``). Same instants; only the text changes, so
those rows compare, filter and sort like every other. Used by the cart and wishlist migrations.

PostgreSQL keeps real timestamps (``timestamptz``) and needs nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.utils.dateparse import parse_datetime

_WITH_OFFSET = "*[+-][0-9][0-9]:[0-9][0-9]"  # GLOB: text ending in an offset like +06:00


def normalise_datetime_text(
    apps: Any, schema_editor: BaseDatabaseSchemaEditor, fields: list[tuple[str, str, str]]
) -> None:
    """Rewrite each ``(app_label, model_name, field_name)`` column's offset datetimes."""
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    qn = connection.ops.quote_name
    for app_label, model_name, field_name in fields:
        meta = apps.get_model(app_label, model_name)._meta
        table, column = qn(meta.db_table), qn(meta.get_field(field_name).column)
        pk = qn(meta.pk.column)
        # Names from the model's _meta, quoted; values are parameters.
        cut = f"substr({column}, 1, length({column}) - 6)"
        strip_utc = f"UPDATE {table} SET {column} = {cut} WHERE {column} LIKE %s"  # noqa: S608
        as_text = f"CAST({column} AS TEXT)"  # not the datetime the backend would convert it to
        with_offset = f"SELECT {pk}, {as_text} FROM {table} WHERE {column} GLOB %s"  # noqa: S608
        update = f"UPDATE {table} SET {column} = %s WHERE {pk} = %s"  # noqa: S608
        with connection.cursor() as cursor:
            # What the store wrote: UTC, so dropping "+00:00" is exact (and needs no Python).
            cursor.execute(strip_utc, ["%+00:00"])
            # Any other offset: convert to UTC as the ORM does.
            cursor.execute(with_offset, [_WITH_OFFSET])
            parsed = [(parse_datetime(text), key) for key, text in cursor.fetchall()]
            rows = [  # text that does not parse is left as it is: never lose a value
                (connection.ops.adapt_datetimefield_value(value), key)
                for value, key in parsed
                if value is not None
            ]
            cursor.executemany(update, rows)
