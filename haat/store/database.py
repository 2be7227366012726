"""The default store: Haat's own database (SQLite or PostgreSQL).

Changes to one user's cart or wishlist are serialised by locking that cart/wishlist row
(``SELECT … FOR UPDATE``; SQLite serialises writers by itself), so two tabs or a double click can
never lose an update or create a second line. Stock moves with conditional UPDATEs only.

The hot paths (every cart change, every cart read, every reservation) are plain SQL: profiling
showed Django's query building cost more than the database work (see README: Benchmarks). The
SQL is portable between SQLite (3.35+) and PostgreSQL, and uses placeholders only. Its table
and column names come from the models and its datetimes are stored as the ORM stores them
(``haat.store.sql``), so rows written here and rows written by the ORM are alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from datetime import timedelta
from functools import cache
from typing import Any

from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Field
from django.utils import timezone

from cart.models import Cart, CartLine
from catalog.models import Product, ProductImage, StockMovement
from haat.errors import InsufficientStock, ProductNotFound, ShortItem
from haat.store.base import (
    AlertWanted,
    CartChange,
    CartContents,
    ProductState,
    WishlistChange,
    WishlistContents,
    WishlistEntry,
)
from haat.store.sql import column, db_datetime, marks, sql, table
from wishlist.models import Wishlist, WishlistItem


def _image_url(name: str | None) -> str:
    # Product images are stored in the default storage (catalog.models.ProductImage.image).
    if not name:
        return ""
    return default_storage.url(name)


def _stock_of() -> str:
    """A product's name and current stock (to explain a refusal)."""
    return sql("SELECT {P.name}, {P.stock} FROM {P} WHERE {P.pk} = %s", P=Product)


class DatabaseStore:
    # --- catalogue ------------------------------------------------------------------------
    def products(self, ids: Iterable[int]) -> dict[int, ProductState]:
        wanted = sorted({int(pk) for pk in ids})
        if not wanted:
            return {}
        with connection.cursor() as cursor:
            cursor.execute(
                _product_columns()
                + sql("WHERE p.{P.pk} IN ", P=Product)
                + f"({marks(len(wanted))})",
                wanted,
            )
            return {row[0]: _product_state(row) for row in cursor.fetchall()}

    def products_changed(self, product_ids: Iterable[int]) -> None:
        """Nothing to do: the product row is the product."""

    def deliver_changes(
        self, product_ids: Iterable[int] | None = None, *, ignore_backoff: bool = False
    ) -> int:
        return 0  # no copy anywhere else

    def reconcile(self) -> dict[str, int]:
        return {}

    def stock_adjust(self, product_id: int, delta: int) -> tuple[str, int]:
        with transaction.atomic(), connection.cursor() as cursor:
            # One conditional statement: a decrease only matches while enough stock is left.
            cursor.execute(
                sql(
                    "UPDATE {P} SET {P.stock} = {P.stock} + %s "
                    "WHERE {P.pk} = %s AND {P.stock} + %s >= 0 RETURNING {P.name}, {P.stock}",
                    P=Product,
                ),
                [delta, product_id, delta],
            )
            row = cursor.fetchone()
            if row is None:
                cursor.execute(_stock_of(), [product_id])
                current = cursor.fetchone()
                if current is None:
                    raise ProductNotFound(product_id=product_id)
                raise InsufficientStock(
                    items=[ShortItem(product_id, str(current[0]), -delta, int(current[1]))]
                )
            return str(row[0]), int(row[1])

    def stock_take(self, quantities: Mapping[int, int]) -> dict[int, int]:
        def take(cursor: CursorWrapper, product_id: int, wanted: int) -> Any:
            cursor.execute(
                sql(
                    "UPDATE {P} SET {P.stock} = {P.stock} - %s "
                    "WHERE {P.pk} = %s AND {P.stock} >= %s RETURNING {P.stock}",
                    P=Product,
                ),
                [wanted, product_id, wanted],
            )
            return cursor.fetchone()

        return _take_each(quantities, take)

    def stock_take_recorded(
        self, quantities: Mapping[int, int], *, reason: str, reference: str, actor_id: int | None
    ) -> dict[int, int] | None:
        if connection.vendor != "postgresql":
            return None  # SQLite has no data-modifying WITH; the caller writes the ledger
        insert, parameters = _ledger_insert()
        statement = (
            sql(
                "WITH moved AS (UPDATE {P} SET {P.stock} = {P.stock} - %s "
                "WHERE {P.pk} = %s AND {P.stock} >= %s RETURNING {P.pk}, {P.name}, {P.stock}) ",
                P=Product,
            )
            + insert
        )
        stored_now = db_datetime(timezone.now())

        def take(cursor: CursorWrapper, product_id: int, wanted: int) -> Any:
            # The conditional UPDATE and its ledger row in one statement.
            row = _ledger_values(
                parameters,
                reason=reason,
                delta=-wanted,
                actor_id=actor_id,
                reference=reference[:64],
                created_at=stored_now,
            )
            cursor.execute(statement, [wanted, product_id, wanted, *row])
            return cursor.fetchone()

        return _take_each(quantities, take)

    def stock_return_recorded(
        self, quantities: Mapping[int, int], *, reason: str, reference: str, actor_id: int | None
    ) -> dict[int, int] | None:
        if connection.vendor != "postgresql":
            return None
        insert, parameters = _ledger_insert()
        statement = (
            sql(
                "WITH moved AS (UPDATE {P} SET {P.stock} = {P.stock} + %s WHERE {P.pk} = %s "
                "RETURNING {P.pk}, {P.name}, {P.stock}) ",
                P=Product,
            )
            + insert
        )
        stored_now = db_datetime(timezone.now())
        result: dict[int, int] = {}
        # No savepoints: nothing here is caught and carried on from, so a failure ends the
        # caller's transaction as it would anyway. Several products are all or nothing.
        block = transaction.atomic(savepoint=False) if len(quantities) > 1 else nullcontext()
        with block, connection.cursor() as cursor:
            for product_id in sorted(quantities):  # ascending id, like every stock change
                row = _ledger_values(
                    parameters,
                    reason=reason,
                    delta=quantities[product_id],
                    actor_id=actor_id,
                    reference=reference[:64],
                    created_at=stored_now,
                )
                cursor.execute(statement, [quantities[product_id], product_id, *row])
                moved = cursor.fetchone()
                if moved is not None:  # None: the product was deleted; no shelf to return to
                    result[product_id] = int(moved[0])
        return result

    # --- carts ----------------------------------------------------------------------------
    def cart_get(self, user_id: int) -> CartContents:
        with connection.cursor() as cursor:
            cursor.execute(
                sql(
                    "SELECT c.{C.version}, l.{L.product}, l.{L.quantity} FROM {C} c "
                    "LEFT JOIN {L} l ON l.{L.cart} = c.{C.pk} "
                    "WHERE c.{C.user} = %s ORDER BY l.{L.added_at}, l.{L.pk}",
                    C=Cart,
                    L=CartLine,
                ),
                [user_id],
            )
            rows = cursor.fetchall()
        if not rows:
            return CartContents()
        return CartContents(int(rows[0][0]), {pid: qty for _, pid, qty in rows if pid is not None})

    def cart_update(
        self, user_id: int, product_ids: Iterable[int], change: CartChange
    ) -> CartContents:
        wanted = sorted({int(pk) for pk in product_ids})
        with transaction.atomic(), connection.cursor() as cursor:
            cart_id, version = _claimed_cart(cursor, user_id)
            # The lines with their products, and the products asked about, in one statement
            # (taken after the lock, so it sees every change committed before it).
            in_cart = sql("SELECT {L.product} FROM {L} WHERE {L.cart} = %s", L=CartLine) + "".join(
                " UNION SELECT %s" for _ in wanted
            )
            cursor.execute(
                _product_columns(", l.{L.quantity}")
                + sql(
                    "LEFT JOIN {L} l ON l.{L.product} = p.{P.pk} AND l.{L.cart} = %s "
                    "WHERE p.{P.pk} IN (",
                    L=CartLine,
                    P=Product,
                )
                + in_cart
                + sql(") ORDER BY l.{L.added_at}, l.{L.pk}", L=CartLine),
                [cart_id, cart_id, *wanted],
            )
            rows = cursor.fetchall()
            products = {row[0]: _product_state(row) for row in rows}
            before = {int(row[0]): int(row[-1]) for row in rows if row[-1] is not None}
            after = change(dict(before), products)
            if after == before:
                # Nothing changes: the version bump (and a cart row just made) is undone.
                transaction.set_rollback(True)
                return CartContents(version - 1, before, products)
            stored_now = db_datetime(timezone.now())
            removed = [pk for pk in before if pk not in after]
            if removed:
                cursor.execute(
                    sql("DELETE FROM {L} WHERE {L.cart} = %s AND {L.product} IN ", L=CartLine)
                    + f"({marks(len(removed))})",
                    [cart_id, *removed],
                )
            for product_id, quantity in after.items():
                if product_id not in before:
                    cursor.execute(
                        sql(
                            "INSERT INTO {L} ({L.cart}, {L.product}, {L.quantity}, {L.added_at}) "
                            "VALUES (%s, %s, %s, %s)",
                            L=CartLine,
                        ),
                        [cart_id, product_id, quantity, stored_now],
                    )
                elif before[product_id] != quantity:
                    cursor.execute(
                        sql(
                            "UPDATE {L} SET {L.quantity} = %s "
                            "WHERE {L.cart} = %s AND {L.product} = %s",
                            L=CartLine,
                        ),
                        [quantity, cart_id, product_id],
                    )
            return CartContents(version, after, products)

    # --- wishlists ------------------------------------------------------------------------
    def wishlist_get(self, user_id: int) -> WishlistContents:
        with connection.cursor() as cursor:
            cursor.execute(
                sql(
                    "SELECT w.{W.version}, i.{I.product_ref}, i.{I.product_name}, "
                    "i.{I.product_slug}, i.{I.added_price_minor}, i.{I.alert_wanted}, "
                    "i.{I.alert_sent} FROM {W} w LEFT JOIN {I} i ON i.{I.wishlist} = w.{W.pk} "
                    "WHERE w.{W.user} = %s ORDER BY i.{I.added_at} DESC, i.{I.pk} DESC",
                    W=Wishlist,
                    I=WishlistItem,
                ),
                [user_id],
            )
            rows = cursor.fetchall()
        if not rows:
            return WishlistContents()
        items = tuple(_wishlist_entry(row[1:]) for row in rows if row[1] is not None)
        return WishlistContents(int(rows[0][0]), items)

    def shopper_get(self, user_id: int) -> tuple[CartContents, WishlistContents]:
        # One round trip for both (every signed-in page's header). A UNION's ORDER BY may only
        # name its columns, so the rows are put in order here: cart lines oldest first,
        # wishlist items newest first, as cart_get and wishlist_get give them.
        with connection.cursor() as cursor:
            cursor.execute(_shopper_get(), [user_id, user_id])
            rows = cursor.fetchall()
        cart_rows = sorted((r for r in rows if r[0] == 0 and r[2] is not None), key=_added)
        wish_rows = sorted((r for r in rows if r[0] == 1 and r[2] is not None), key=_added)
        cart_version = next((int(r[1]) for r in rows if r[0] == 0), 0)
        wishlist_version = next((int(r[1]) for r in rows if r[0] == 1), 0)
        cart = CartContents(cart_version, {int(r[2]): int(r[3]) for r in cart_rows})
        items = tuple(_wishlist_entry(r[2:3] + r[4:9]) for r in reversed(wish_rows))
        return cart, WishlistContents(wishlist_version, items)

    def wishlist_update(
        self, user_id: int, product_ids: Iterable[int], change: WishlistChange
    ) -> WishlistContents:
        with transaction.atomic(), connection.cursor() as cursor:
            wishlist_id, version = _locked_row(cursor, Wishlist, user_id)
            cursor.execute(
                sql(
                    "SELECT {I.product_ref}, {I.product_name}, {I.product_slug}, "
                    "{I.added_price_minor}, {I.alert_wanted}, {I.alert_sent} FROM {I} "
                    "WHERE {I.wishlist} = %s ORDER BY {I.added_at} DESC, {I.pk} DESC",
                    I=WishlistItem,
                ),
                [wishlist_id],
            )
            before = [_wishlist_entry(row) for row in cursor.fetchall()]
            products = self.products(set(product_ids))
            after = change(list(before), products)
            if after == before:
                return WishlistContents(version, tuple(before))
            kept = {entry.product_id for entry in after}
            gone = [entry.product_id for entry in before if entry.product_id not in kept]
            if gone:
                cursor.execute(
                    sql(
                        "DELETE FROM {I} WHERE {I.wishlist} = %s AND {I.product_ref} IN ",
                        I=WishlistItem,
                    )
                    + f"({marks(len(gone))})",
                    [wishlist_id, *gone],
                )
            existing = {entry.product_id: entry for entry in before}
            for entry in after:  # an item kept whose alert changed
                was = existing.get(entry.product_id)
                if was is not None and was != entry:
                    cursor.execute(
                        sql(
                            "UPDATE {I} SET {I.alert_wanted} = %s, {I.alert_sent} = %s "
                            "WHERE {I.wishlist} = %s AND {I.product_ref} = %s",
                            I=WishlistItem,
                        ),
                        [entry.alert_wanted, entry.alert_sent, wishlist_id, entry.product_id],
                    )
            added = [entry for entry in reversed(after) if entry.product_id not in existing]
            live = set(self.products([entry.product_id for entry in added]))
            now = timezone.now()
            for offset, entry in enumerate(added):  # oldest first, so "newest first" holds
                cursor.execute(
                    sql(
                        "INSERT INTO {I} ({I.wishlist}, {I.product}, {I.product_ref}, "
                        "{I.product_name}, {I.product_slug}, {I.added_at}, "
                        "{I.added_price_minor}, {I.alert_wanted}, {I.alert_sent}) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                        I=WishlistItem,
                    ),
                    [
                        wishlist_id,
                        entry.product_id if entry.product_id in live else None,
                        entry.product_id,
                        entry.name,
                        entry.slug,
                        db_datetime(now + timedelta(microseconds=offset)),
                        entry.added_price_minor,
                        entry.alert_wanted,
                        entry.alert_sent,
                    ],
                )
            cursor.execute(
                sql(
                    "UPDATE {W} SET {W.version} = {W.version} + 1, {W.updated_at} = %s "
                    "WHERE {W.pk} = %s",
                    W=Wishlist,
                ),
                [db_datetime(now), wishlist_id],
            )
            return WishlistContents(version + 1, tuple(after))

    def wishlist_alerts_wanted(self, product_ids: Iterable[int] | None = None) -> list[AlertWanted]:
        query = sql(
            "SELECT w.{W.user}, i.{I.product_ref} FROM {I} i "
            "JOIN {W} w ON w.{W.pk} = i.{I.wishlist} WHERE i.{I.alert_wanted} = %s",
            W=Wishlist,
            I=WishlistItem,
        )
        parameters: list[Any] = [True]
        if product_ids is not None:
            wanted = sorted({int(pk) for pk in product_ids})
            if not wanted:
                return []
            query += sql(" AND i.{I.product_ref} IN ", I=WishlistItem) + f"({marks(len(wanted))})"
            parameters += wanted
        with connection.cursor() as cursor:
            cursor.execute(query + sql(" ORDER BY i.{I.pk}", I=WishlistItem), parameters)
            return [AlertWanted(int(user), int(product)) for user, product in cursor.fetchall()]


@cache
def _shopper_get() -> str:
    """Cart lines and wishlist items of one user; each row: kind (0 cart, 1 wishlist), version,
    product, quantity, the wishlist item's name, slug, price when saved and alert flags, and
    when it was added (with its id, to break ties). A missing line or item leaves a row of the
    cart or wishlist with no product; a missing cart or wishlist leaves no row."""
    return sql(
        "SELECT 0, c.{C.version}, l.{L.product}, l.{L.quantity}, NULL, NULL, NULL, NULL, NULL, "
        "l.{L.added_at}, l.{L.pk} FROM {C} c LEFT JOIN {L} l ON l.{L.cart} = c.{C.pk} "
        "WHERE c.{C.user} = %s "
        "UNION ALL "
        "SELECT 1, w.{W.version}, i.{I.product_ref}, NULL, i.{I.product_name}, "
        "i.{I.product_slug}, i.{I.added_price_minor}, i.{I.alert_wanted}, i.{I.alert_sent}, "
        "i.{I.added_at}, i.{I.pk} FROM {W} w LEFT JOIN {I} i ON i.{I.wishlist} = w.{W.pk} "
        "WHERE w.{W.user} = %s",
        C=Cart,
        L=CartLine,
        W=Wishlist,
        I=WishlistItem,
    )


def _added(row: tuple[Any, ...]) -> tuple[Any, int]:
    return row[9], int(row[10])


def _wishlist_entry(row: tuple[Any, ...]) -> WishlistEntry:
    ref, name, slug, added_price, alert_wanted, alert_sent = row
    return WishlistEntry(
        int(ref),
        name,
        slug,
        None if added_price is None else int(added_price),
        bool(alert_wanted),
        bool(alert_sent),
    )


def _take_each(
    quantities: Mapping[int, int], take: Callable[[CursorWrapper, int, int], Any]
) -> dict[int, int]:
    """Run ``take`` (one conditional statement) per product in ascending id order, so every
    transaction locks rows in the same order and two checkouts never deadlock. One product is
    one statement with nothing to undo; several are all or nothing. A refusal lists every
    short product."""
    short: list[ShortItem] = []
    result: dict[int, int] = {}
    block = transaction.atomic() if len(quantities) > 1 else nullcontext()
    with block, connection.cursor() as cursor:
        for product_id in sorted(quantities):
            wanted = quantities[product_id]
            row = take(cursor, product_id, wanted)
            if row is not None:
                result[product_id] = int(row[0])
                continue
            cursor.execute(_stock_of(), [product_id])
            current = cursor.fetchone()
            name, available = (str(current[0]), int(current[1])) if current else ("", 0)
            short.append(ShortItem(product_id, name, wanted, available))
        if short and len(quantities) > 1:
            transaction.set_rollback(True)
    if short:
        raise InsufficientStock(items=short)
    return result


def _locked_row(
    cursor: CursorWrapper, model: type[Cart | Wishlist], user_id: int
) -> tuple[int, int]:
    """(id, version) of the user's cart/wishlist row, locked until the transaction ends, and
    created if missing. Racing first requests end up with one row: the insert ignores the
    conflict and both then lock the winner."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    select = sql("SELECT {M.pk}, {M.version} FROM {M} WHERE {M.user} = %s", M=model) + lock
    cursor.execute(select, [user_id])
    row = cursor.fetchone()
    if row is None:
        cursor.execute(
            sql(
                "INSERT INTO {M} ({M.user}, {M.version}, {M.updated_at}) VALUES (%s, 0, %s) "
                "ON CONFLICT ({M.user}) DO NOTHING",
                M=model,
            ),
            [user_id, db_datetime(timezone.now())],
        )
        cursor.execute(select, [user_id])
        row = cursor.fetchone()
    return int(row[0]), int(row[1])


def _claimed_cart(cursor: CursorWrapper, user_id: int) -> tuple[int, int]:
    """(id, version) of the user's cart row after bumping its version, which locks the row
    until the transaction ends; the row is made if missing. One statement for a cart that
    exists: the lock and the change's version bump at once (a change that turns out to change
    nothing rolls it back). Racing first requests end up with one row: the insert of the one
    that loses becomes the bump of the winner's row, after the winner's commit."""
    now = db_datetime(timezone.now())
    cursor.execute(
        sql(
            "UPDATE {C} SET {C.version} = {C.version} + 1, {C.updated_at} = %s "
            "WHERE {C.user} = %s RETURNING {C.pk}, {C.version}",
            C=Cart,
        ),
        [now, user_id],
    )
    row = cursor.fetchone()
    if row is None:
        cursor.execute(
            sql(
                "INSERT INTO {C} ({C.user}, {C.version}, {C.updated_at}) VALUES (%s, 1, %s) "
                "ON CONFLICT ({C.user}) DO UPDATE SET {C.version} = {C}.{C.version} + 1, "
                "{C.updated_at} = excluded.{C.updated_at} RETURNING {C.pk}, {C.version}",
                C=Cart,
            ),
            [user_id, now],
        )
        row = cursor.fetchone()
    return int(row[0]), int(row[1])


def _product_columns(extra: str = "") -> str:
    """``SELECT <a product's state> FROM <products> p `` (``extra``: more columns, e.g. of a
    joined table), to be followed by joins and a WHERE clause; rows for ``_product_state``."""
    return sql(
        "SELECT p.{P.pk}, p.{P.slug}, p.{P.name}, p.{P.price_minor}, p.{P.stock}, "
        "p.{P.is_published}, (SELECT i.{I.image} FROM {I} i "
        "WHERE i.{I.product} = p.{P.pk} ORDER BY i.{I.position}, i.{I.pk} LIMIT 1)"
        + extra
        + " FROM {P} p ",
        P=Product,
        I=ProductImage,
        L=CartLine,
    )


def _product_state(row: tuple[Any, ...]) -> ProductState:
    pk, slug, name, price, stock, published, image = row[:7]
    return ProductState(pk, slug, name, price, stock, bool(published), _image_url(image))


@cache
def _ledger_insert() -> tuple[str, tuple[tuple[str, Callable[[], Any]], ...]]:
    """The ledger half of the stock statements, ``INSERT INTO <ledger> (<every column>)
    SELECT … FROM moved RETURNING <resulting stock>``, and the ledger fields given as
    parameters, in order, each with its default. Built from the StockMovement model, the one
    list of its columns: a column added to the ledger is written too, with its default unless
    the caller names it."""
    # The ledger columns filled from the updated product row (the CTE named ``moved``).
    from_taken = {"product": "pk", "product_name": "name", "resulting_stock": "stock"}
    fields = [f for f in StockMovement._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(column(StockMovement, f.name) for f in fields)
    values = ", ".join(
        f"moved.{column(Product, from_taken[f.name])}" if f.name in from_taken else "%s"
        for f in fields
    )
    insert = (
        f"INSERT INTO {table(StockMovement)} ({columns}) SELECT {values} FROM moved "
        f"RETURNING {column(StockMovement, 'resulting_stock')}"
    )
    parameters = tuple((f.attname, _default_of(f)) for f in fields if f.name not in from_taken)
    return insert, parameters


def _default_of(field: Field) -> Callable[[], Any]:
    """The field's default as the database takes it: worked out once, unless it is made
    afresh for every row (a callable default)."""
    if field.has_default() and callable(field.default):
        return lambda: field.get_db_prep_save(field.get_default(), connection)
    value = field.get_db_prep_save(field.get_default(), connection)
    return lambda: value


def _ledger_values(
    parameters: tuple[tuple[str, Callable[[], Any]], ...], **given: Any
) -> list[Any]:
    """Parameters for ``_ledger_insert``: ``given`` by attribute name (e.g. ``actor_id``), as
    the database takes them (datetimes through ``db_datetime``), every other field's default."""
    unknown = given.keys() - {name for name, _ in parameters}
    if unknown:
        raise TypeError(f"Not ledger fields: {sorted(unknown)}")
    return [given[name] if name in given else default() for name, default in parameters]
