"""Building blocks for the store's hand-written SQL, so it agrees with the models.

Table and column names come from each model's ``_meta`` (a renamed ``db_table`` or
``db_column`` is honoured) and values that need it are prepared the way the ORM prepares them
(on SQLite a datetime is stored as naive UTC text, like every row the ORM writes, so the two
sort and filter alike).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import Field, ForeignKey, Model


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


def lock_clause(*tables: str) -> str:
    """`` FOR UPDATE`` (``OF`` those table aliases, where the database can say so) on a
    database that locks rows; nothing on SQLite, which serialises writers by itself."""
    features = connection.features
    if not features.has_select_for_update:
        return ""
    if tables and features.has_select_for_update_of:
        return " FOR UPDATE OF " + ", ".join(tables)
    return " FOR UPDATE"


_TEXT = frozenset({"CharField", "TextField"})
_AUTO = frozenset({"AutoField", "BigAutoField", "SmallAutoField"})  # not adapted: as they are
_INTEGER = frozenset(
    {
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
    }
)


@lru_cache(maxsize=512)
def _plain_types(field: Field) -> tuple[tuple[type, ...], str]:
    """The Python types whose values the field's own preparation hands on unchanged (``str``
    for text, ``bool`` for booleans, ``None``) or, for integers and foreign keys to them, only
    adapted to the backend (``int``, with the integer field's internal type to adapt it by);
    none for any other field (datetimes, JSON, …)."""
    internal = field.get_internal_type()
    if isinstance(field, ForeignKey):
        internal = field.target_field.get_internal_type()
    if internal in _TEXT:
        return (str, type(None)), ""
    if internal in _INTEGER:
        return (int,), internal
    if internal in _AUTO:
        return (int, type(None)), ""
    if internal == "BooleanField":
        return (bool, type(None)), ""
    return (), ""


def _prepared(field: Field, value: Any) -> Any:
    """``value`` as the field's ``get_db_prep_save`` gives it to the database, without the
    calls that change nothing for a plain value of a plain field (see ``_plain_types``)."""
    plain, integer = _plain_types(field)
    if type(value) in plain:
        return connection.ops.adapt_integerfield_value(value, integer) if integer else value
    if hasattr(value, "resolve_expression"):  # F("uses") + 1 and the like: values only here
        raise TypeError(f"{field.name}: an expression, not a value (use the ORM for it)")
    return field.get_db_prep_save(value, connection)


@lru_cache(maxsize=64)
def _insert_plan(
    model: type[Model], rows: int, ignore_conflict_on: str
) -> tuple[str, tuple[Field, ...]]:
    """The INSERT of ``rows`` new rows of ``model`` (every concrete column but an automatic
    primary key) returning their primary keys, and the fields in column order."""
    meta = model._meta
    fields = tuple(f for f in meta.concrete_fields if f is not meta.auto_field)
    columns = ", ".join(column(model, f.name) for f in fields)
    row = f"({marks(len(fields))})"
    conflict = ""
    if ignore_conflict_on:
        conflict = f" ON CONFLICT ({column(model, ignore_conflict_on)}) DO NOTHING"
    statement = (
        f"INSERT INTO {table(model)} ({columns}) VALUES {', '.join([row] * rows)}"  # noqa: S608
        f"{conflict} RETURNING {column(model, 'pk')}"
    )
    return statement, fields


def insert(*instances: Model, ignore_conflict_on: str = "") -> int:
    """Write new ``instances`` (of one model) in one INSERT, as ``Model.save`` would: every
    field's value prepared by the field (``auto_now``/``auto_now_add`` filled in, datetimes
    and JSON as the ORM stores them), the primary keys set on the instances. For the hot
    paths, which cannot pay for the ORM's query building: no signals are sent, so only for
    models nothing listens to. ``ignore_conflict_on``: a unique field; a row that would
    repeat its value is left out (one instance only). Returns how many rows were written."""
    if not instances:
        return 0
    model = type(instances[0])
    if ignore_conflict_on and len(instances) > 1:
        raise ValueError("ignore_conflict_on is for one instance")
    statement, fields = _insert_plan(model, len(instances), ignore_conflict_on)
    values = [
        _prepared(field, field.pre_save(instance, True))
        for instance in instances
        for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(statement, values)
        keys = cursor.fetchall()
    for instance, (key,) in zip(instances, keys, strict=False):
        _saved(instance, key)
    return len(keys)


def _field(model: type[Model], name: str) -> Field:
    meta = model._meta
    field = meta.pk if name == "pk" else meta.get_field(name)
    if not isinstance(field, Field):
        raise ValueError(f"{model.__name__}.{name} has no column")
    return field


def _set_clause(changes: dict[str, Any], where: dict[str, Any]) -> str:
    """``SET … WHERE …`` of an UPDATE of the model called ``M`` in a ``sql`` template."""
    return (
        " SET "
        + ", ".join(f"{{M.{name}}} = %s" for name in changes)
        + " WHERE "
        + " AND ".join(f"{{M.{name}}} = %s" for name in where)
    )


def update(model: type[Model], changes: dict[str, Any], **where: Any) -> int:
    """``UPDATE`` the rows of ``model`` whose fields equal ``where`` (``pk`` for the primary
    key), setting ``changes`` (field name: plain value, prepared by its field as the ORM
    would). Returns how many rows matched."""
    # Names only (the callers' field names, made columns by ``sql``); values are parameters.
    template = "UPDATE {M}" + _set_clause(changes, where)
    values = [
        _prepared(_field(model, name), value) for name, value in (*changes.items(), *where.items())
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql(template, M=model), values)
        return cursor.rowcount


@lru_cache(maxsize=64)
def _row_reading(model: type[Model]) -> tuple[tuple[str, ...], tuple[tuple[Any, Any], ...]]:
    """The attribute names of the model's concrete fields, in ``columns`` order, and for
    each field its converters with the column expression they are called with (the ones the
    ORM applies to what the database hands back: on SQLite text to datetimes, 0/1 to bools)."""
    fields = model._meta.concrete_fields
    converting = []
    for field in fields:
        expression = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(expression) + field.get_db_converters(
            connection
        )
        converting.append((tuple(converters), expression))
    return tuple(f.attname for f in fields), tuple(converting)


def columns(model: type[Model], alias: str) -> str:
    """Every concrete column of ``model`` as ``alias.column``, in the order ``from_row`` reads."""
    return ", ".join(f"{alias}.{column(model, f.name)}" for f in model._meta.concrete_fields)


def from_row(model: type[Model], row: tuple[Any, ...] | list[Any]) -> Any:
    """The model instance that the ORM would make of ``row`` (its first values being the
    ``columns`` of ``model``)."""
    names, converting = _row_reading(model)
    values = []
    for value, (converters, expression) in zip(row, converting, strict=False):
        for converter in converters:
            value = converter(value, expression, connection)
        values.append(value)
    return model.from_db(connection.alias, names, values)


def _foreign_key_to(child: Model, parent: Model) -> ForeignKey:
    """The field of ``child`` whose related object is ``parent``."""
    for field in child._meta.concrete_fields:
        if isinstance(field, ForeignKey) and field.get_cached_value(child, None) is parent:
            return field
    raise ValueError(f"{type(child).__name__} does not refer to the {type(parent).__name__}")


@lru_cache(maxsize=64)
def _insert_select(
    model: type[Model], source: str, key_field: str = "", key_column: str = ""
) -> tuple[str, tuple[Field, ...]]:
    """``INSERT INTO <model's table> (…) SELECT … FROM <source> RETURNING <its key>``: one row
    per row of ``source`` (a WITH name), the field ``key_field`` (if any) taking the source's
    ``key_column``, every other field a parameter (those fields returned, in order)."""
    fields = [f for f in model._meta.concrete_fields if f is not model._meta.auto_field]
    columns = ", ".join(column(model, f.name) for f in fields)
    values = ", ".join(f"{source}.{key_column}" if f.name == key_field else "%s" for f in fields)
    statement = (
        f"INSERT INTO {table(model)} ({columns}) SELECT {values} FROM {source} "  # noqa: S608
        f"RETURNING {column(model, 'pk')}"
    )
    return statement, tuple(f for f in fields if f.name != key_field)


@lru_cache(maxsize=64)
def _family_plan(
    parent_model: type[Model], children: tuple[tuple[type[Model], str], ...]
) -> tuple[str, tuple[tuple[Field, ...], ...]]:
    """One statement writing a parent row and rows referring to it (``children``: each one's
    model and foreign key field's name), returning every primary key; and for each row the
    fields whose values are parameters, in order."""
    parent_statement, parent_fields = _insert_plan(parent_model, 1, "")
    parent_key = column(parent_model, "pk")
    parts = [f"WITH p AS ({parent_statement})"]
    plan = [parent_fields]
    for index, (model, foreign_key) in enumerate(children):
        statement, fields = _insert_select(model, "p", foreign_key, parent_key)
        parts.append(f", c{index} AS ({statement})")
        plan.append(fields)
    keys = "".join(f", (SELECT * FROM c{i})" for i in range(len(children)))  # noqa: S608
    parts.append(f" SELECT p.{parent_key}{keys} FROM p")  # noqa: S608
    return "".join(parts), tuple(plan)


FAMILY_IN_ONE_STATEMENT = 32  # most rows written with their parent in one statement


def insert_family(parent: Model, *children: Model) -> None:
    """Write a new ``parent`` and new ``children`` that refer to it (their foreign key set to
    the unsaved ``parent``) as ``insert`` would: on PostgreSQL in one statement (a
    data-modifying WITH, one round trip for them all), elsewhere one INSERT each."""
    foreign_keys = [_foreign_key_to(child, parent) for child in children]
    # (A big family, e.g. a cart of hundreds of lines, is not worth a statement of its own.)
    if connection.vendor != "postgresql" or len(children) > FAMILY_IN_ONE_STATEMENT:
        insert(parent)
        for child, foreign_key in zip(children, foreign_keys, strict=True):
            _refer(child, foreign_key, parent)
            insert(child)
        return
    statement, plan = _family_plan(
        type(parent),
        tuple((type(child), fk.name) for child, fk in zip(children, foreign_keys, strict=True)),
    )
    rows = (parent, *children)
    values = [
        _prepared(field, field.pre_save(row, True))
        for row, fields in zip(rows, plan, strict=True)
        for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(statement, values)
        keys = cursor.fetchone()
    for row, key in zip(rows, keys, strict=True):
        _saved(row, key)
    for child, foreign_key in zip(children, foreign_keys, strict=True):
        _refer(child, foreign_key, parent)


def _refer(child: Model, foreign_key: ForeignKey, parent: Model) -> None:
    """Fill in the parent's new key (and keep the parent cached, as saving with the ORM does)."""
    setattr(child, foreign_key.attname, parent.pk)
    foreign_key.set_cached_value(child, parent)


def _saved(row: Model, key: Any) -> None:
    row.pk = key
    row._state.adding = False
    row._state.db = connection.alias


@dataclass
class Alongside:
    """An ``update`` to run in the statement of ``update_and_insert`` (on PostgreSQL), whether
    or not that one matches: ``changes`` where ``where``; ``matched`` says how many rows it
    matched once run. For two changes that always go together, in one round trip."""

    model: type[Model]
    changes: dict[str, Any]
    where: dict[str, Any]
    matched: int = 0

    def run(self) -> int:
        self.matched = update(self.model, self.changes, **self.where)
        return self.matched


def update_and_insert(
    model: type[Model],
    changes: dict[str, Any],
    row: Model,
    alongside: Alongside | None = None,
    **where: Any,
) -> int:
    """``update`` (``changes`` where ``where``), and only if a row matched (one at most: the
    caller names it by its key) write the new ``row`` as ``insert`` would; on PostgreSQL in
    one statement, so the two happen together or not at all. ``alongside``: another update,
    run first and in the same statement. Returns how many rows matched."""
    if connection.vendor != "postgresql":
        if alongside is not None:
            alongside.run()
        updated = update(model, changes, **where)
        if updated:
            insert(row)
        return updated
    insert_part, fields = _insert_select(type(row), "u")
    statement = sql(
        "WITH u AS (UPDATE {M}" + _set_clause(changes, where) + " RETURNING {M.pk}) ", M=model
    )
    values = [
        _prepared(_field(model, name), value) for name, value in (*changes.items(), *where.items())
    ]
    if alongside is not None:
        # One row back: how many rows the other update matched, and the new row's key or NULL
        # (every part of a WITH runs, read or not).
        statement = sql(
            "WITH a AS (UPDATE {M}"
            + _set_clause(alongside.changes, alongside.where)
            + " RETURNING 1), ",
            M=alongside.model,
        ) + statement.removeprefix("WITH ")
        insert_part = (
            f", i AS ({insert_part}) "  # noqa: S608 (names from _meta, values parameters)
            "SELECT (SELECT count(*) FROM a), (SELECT * FROM i)"
        )
        values = [
            _prepared(_field(alongside.model, name), value)
            for name, value in (*alongside.changes.items(), *alongside.where.items())
        ] + values
    values += [_prepared(field, field.pre_save(row, True)) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(statement + insert_part, values)
        keys = cursor.fetchall()
    if alongside is not None:
        ((alongside.matched, key),) = keys
        keys = [] if key is None else [(key,)]
    if keys:
        _saved(row, keys[0][0])
    return len(keys)
