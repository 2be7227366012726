"""Building blocks for the store's hand-written SQL, so it agrees with the models.

Table and column names come from each model's ``_meta`` (a renamed ``db_table`` or
``db_column`` is honoured) and values that need it are prepared the way the ORM prepares them
(on SQLite a datetime is stored as naive UTC text, like every row the ORM writes, so the two
sort and filter alike).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import Field, Model


def table(model: type[Model]) -> str:
    """The model's table, quoted."""
    return connection.ops.quote_name(model._meta.db_table)


def column(model: type[Model], field_name: str) -> str:
    """The column of the model's field (``pk``: the primary key's), quoted."""
    meta = model._meta
    field = meta.pk if field_name == "pk" else meta.get_field(field_name)
    if not isinstance(field, Field) or not field.column:
        raise ValueError(f"{model.__name__}.{field_name} has no column")
    return connection.ops.quote_name(field.column)


class _Names:
    """One model in a template: ``{X}`` is its table, ``{X.field}`` that field's column."""

    def __init__(self, model: type[Model]) -> None:
        self._model = model

    def __format__(self, spec: str) -> str:
        return table(self._model)

    def __getattr__(self, field_name: str) -> str:
        return column(self._model, field_name)


@lru_cache(maxsize=256)
def sql(template: str, **models: type[Model]) -> str:
    """``template`` with the names of ``models`` filled in, e.g.
    ``sql("SELECT {L.quantity} FROM {L} WHERE {L.cart} = %s", L=CartLine)``. Built once per
    template: the hot paths pay for a dictionary look-up, not for formatting. (``_meta`` does
    not change while Haat runs; a test that changes it calls ``sql.cache_clear()``.)"""
    return template.format(**{alias: _Names(model) for alias, model in models.items()})


def db_datetime(value: datetime) -> Any:
    """An aware datetime as the ORM writes it into a ``DateTimeField`` column: on SQLite naive
    UTC text, on PostgreSQL the datetime itself. (This is where the field's own preparation
    ends up; calling it directly keeps the hot paths cheap.)"""
    return connection.ops.adapt_datetimefield_value(value)


def marks(count: int) -> str:
    """``count`` placeholders for an ``IN (…)`` list."""
    return ", ".join(["%s"] * count)
