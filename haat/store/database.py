"""The default store: Haat's own database (SQLite or PostgreSQL).

Changes to one user's cart or wishlist are serialised by locking that cart/wishlist row
(``SELECT … FOR UPDATE``; SQLite serialises writers by itself), so two tabs or a double click can
never lose an update or create a second line. Stock moves with conditional UPDATEs only.

The hot paths (every cart change, every cart read, every reservation) are plain SQL: profiling
showed Django's query building cost more than the database work (see README: Benchmarks). The
SQL is portable between SQLite (3.35+) and PostgreSQL, and uses placeholders only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import ProductImage
from haat.errors import InsufficientStock, ProductNotFound
from haat.store.base import (
    CartChange,
    CartContents,
    ProductState,
    WishlistChange,
    WishlistContents,
    WishlistEntry,
)

_IMAGE_FIELD = ProductImage._meta.get_field("image")


def _image_url(name: str | None) -> str:
    if not name:
        return ""
    return FieldFile(ProductImage(), _IMAGE_FIELD, name).url


def _marks(values: Iterable[Any]) -> str:
    return ", ".join(["%s"] * len(list(values)))


class DatabaseStore:
    # --- catalogue ------------------------------------------------------------------------
    def products(self, ids: Iterable[int]) -> dict[int, ProductState]:
        wanted = sorted({int(pk) for pk in ids})
        if not wanted:
            return {}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT p.id, p.slug, p.name, p.price_minor, p.stock, p.is_published, "
                "(SELECT i.image FROM catalog_productimage i WHERE i.product_id = p.id "
                "ORDER BY i.position, i.id LIMIT 1) "
                f"FROM catalog_product p WHERE p.id IN ({_marks(wanted)})",
                wanted,
            )
            rows = cursor.fetchall()
        return {
            pk: ProductState(pk, slug, name, price, stock, bool(published), _image_url(image))
            for pk, slug, name, price, stock, published, image in rows
        }

    def product_sync(self, product: ProductState) -> None:
        """Nothing to do: the product row is the product."""

    def product_remove(self, product_id: int) -> None:
        """Nothing to do: the row is already gone."""

    def stock_adjust(self, product_id: int, delta: int) -> tuple[str, int]:
        with transaction.atomic(), connection.cursor() as cursor:
            # One conditional statement: a decrease only matches while enough stock is left.
            cursor.execute(
                "UPDATE catalog_product SET stock = stock + %s "
                "WHERE id = %s AND stock + %s >= 0 RETURNING name, stock",
                [delta, product_id, delta],
            )
            row = cursor.fetchone()
            if row is None:
                cursor.execute("SELECT stock FROM catalog_product WHERE id = %s", [product_id])
                current = cursor.fetchone()
                if current is None:
                    raise ProductNotFound(_("This product does not exist."), product_id=product_id)
                raise InsufficientStock(
                    f"Only {current[0]} in stock; cannot take {-delta}.",
                    product_id=product_id,
                    requested=-delta,
                    available=current[0],
                )
            return str(row[0]), int(row[1])

    def stock_take(self, quantities: Mapping[int, int]) -> dict[int, int]:
        def take(cursor: CursorWrapper, product_id: int, wanted: int) -> Any:
            cursor.execute(
                "UPDATE catalog_product SET stock = stock - %s "
                "WHERE id = %s AND stock >= %s RETURNING stock",
                [wanted, product_id, wanted],
            )
            return cursor.fetchone()

        return _take_each(quantities, take)

    def stock_take_recorded(
        self, quantities: Mapping[int, int], *, reason: str, reference: str, actor_id: int | None
    ) -> dict[int, int] | None:
        if connection.vendor != "postgresql":
            return None  # SQLite has no data-modifying WITH; the caller writes the ledger
        now = timezone.now()

        def take(cursor: CursorWrapper, product_id: int, wanted: int) -> Any:
            # The conditional UPDATE and its ledger row in one statement.
            cursor.execute(
                "WITH taken AS ("
                " UPDATE catalog_product SET stock = stock - %s"
                " WHERE id = %s AND stock >= %s RETURNING id, name, stock) "
                "INSERT INTO catalog_stockmovement (product_id, product_name, reason, delta, "
                "resulting_stock, actor_id, note, reference, created_at) "
                "SELECT id, name, %s, %s, stock, %s, '', %s, %s FROM taken "
                "RETURNING resulting_stock",
                [wanted, product_id, wanted, reason, -wanted, actor_id, reference[:64], now],
            )
            return cursor.fetchone()

        return _take_each(quantities, take)

    # --- carts ----------------------------------------------------------------------------
    def cart_get(self, user_id: int) -> CartContents:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.version, l.product_id, l.quantity FROM cart_cart c "
                "LEFT JOIN cart_cartline l ON l.cart_id = c.id "
                "WHERE c.user_id = %s ORDER BY l.added_at, l.id",
                [user_id],
            )
            rows = cursor.fetchall()
        if not rows:
            return CartContents()
        return CartContents(int(rows[0][0]), {pid: qty for _, pid, qty in rows if pid is not None})

    def cart_update(
        self, user_id: int, product_ids: Iterable[int], change: CartChange
    ) -> CartContents:
        with transaction.atomic(), connection.cursor() as cursor:
            cart_id, version = _locked_row(cursor, "cart_cart", user_id)
            cursor.execute(
                "SELECT product_id, quantity FROM cart_cartline WHERE cart_id = %s "
                "ORDER BY added_at, id",
                [cart_id],
            )
            before = {int(pid): int(qty) for pid, qty in cursor.fetchall()}
            products = self.products(set(product_ids) | set(before))
            after = change(dict(before), products)
            if after == before:
                return CartContents(version, before)
            now = timezone.now()
            removed = [pk for pk in before if pk not in after]
            if removed:
                cursor.execute(
                    "DELETE FROM cart_cartline WHERE cart_id = %s "
                    f"AND product_id IN ({_marks(removed)})",
                    [cart_id, *removed],
                )
            for product_id, quantity in after.items():
                if product_id not in before:
                    cursor.execute(
                        "INSERT INTO cart_cartline (cart_id, product_id, quantity, added_at) "
                        "VALUES (%s, %s, %s, %s)",
                        [cart_id, product_id, quantity, now],
                    )
                elif before[product_id] != quantity:
                    cursor.execute(
                        "UPDATE cart_cartline SET quantity = %s "
                        "WHERE cart_id = %s AND product_id = %s",
                        [quantity, cart_id, product_id],
                    )
            cursor.execute(
                "UPDATE cart_cart SET version = version + 1, updated_at = %s WHERE id = %s",
                [now, cart_id],
            )
            return CartContents(version + 1, after)

    # --- wishlists ------------------------------------------------------------------------
    def wishlist_get(self, user_id: int) -> WishlistContents:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT w.version, i.product_ref, i.product_name, i.product_slug "
                "FROM wishlist_wishlist w LEFT JOIN wishlist_wishlistitem i ON i.wishlist_id = w.id "
                "WHERE w.user_id = %s ORDER BY i.added_at DESC, i.id DESC",
                [user_id],
            )
            rows = cursor.fetchall()
        if not rows:
            return WishlistContents()
        items = tuple(
            WishlistEntry(int(ref), name, slug) for _, ref, name, slug in rows if ref is not None
        )
        return WishlistContents(int(rows[0][0]), items)

    def wishlist_update(
        self, user_id: int, product_ids: Iterable[int], change: WishlistChange
    ) -> WishlistContents:
        with transaction.atomic(), connection.cursor() as cursor:
            wishlist_id, version = _locked_row(cursor, "wishlist_wishlist", user_id)
            cursor.execute(
                "SELECT product_ref, product_name, product_slug FROM wishlist_wishlistitem "
                "WHERE wishlist_id = %s ORDER BY added_at DESC, id DESC",
                [wishlist_id],
            )
            before = [WishlistEntry(int(ref), name, slug) for ref, name, slug in cursor.fetchall()]
            products = self.products(set(product_ids))
            after = change(list(before), products)
            if after == before:
                return WishlistContents(version, tuple(before))
            kept = {entry.product_id for entry in after}
            gone = [entry.product_id for entry in before if entry.product_id not in kept]
            if gone:
                cursor.execute(
                    "DELETE FROM wishlist_wishlistitem WHERE wishlist_id = %s "
                    f"AND product_ref IN ({_marks(gone)})",
                    [wishlist_id, *gone],
                )
            existing = {entry.product_id for entry in before}
            added = [entry for entry in reversed(after) if entry.product_id not in existing]
            live = set(self.products([entry.product_id for entry in added]))
            now = timezone.now()
            for offset, entry in enumerate(added):  # oldest first, so "newest first" holds
                cursor.execute(
                    "INSERT INTO wishlist_wishlistitem "
                    "(wishlist_id, product_id, product_ref, product_name, product_slug, added_at) "
                    "VALUES (%s, %s, %s, %s, %s, %s)",
                    [
                        wishlist_id,
                        entry.product_id if entry.product_id in live else None,
                        entry.product_id,
                        entry.name,
                        entry.slug,
                        now + timedelta(microseconds=offset),
                    ],
                )
            cursor.execute(
                "UPDATE wishlist_wishlist SET version = version + 1, updated_at = %s WHERE id = %s",
                [now, wishlist_id],
            )
            return WishlistContents(version + 1, tuple(after))


def _take_each(
    quantities: Mapping[int, int], take: Callable[[CursorWrapper, int, int], Any]
) -> dict[int, int]:
    """Run ``take`` (one conditional statement) per product in ascending id order, so every
    transaction locks rows in the same order and two checkouts never deadlock. One product is
    one statement with nothing to undo; several are all or nothing. A refusal lists every
    short product."""
    short: list[dict[str, int]] = []
    result: dict[int, int] = {}
    block = transaction.atomic() if len(quantities) > 1 else nullcontext()
    with block, connection.cursor() as cursor:
        for product_id in sorted(quantities):
            wanted = quantities[product_id]
            row = take(cursor, product_id, wanted)
            if row is not None:
                result[product_id] = int(row[0])
                continue
            cursor.execute("SELECT stock FROM catalog_product WHERE id = %s", [product_id])
            current = cursor.fetchone()
            short.append(
                {
                    "product_id": product_id,
                    "requested": wanted,
                    "available": int(current[0]) if current else 0,
                }
            )
        if short and len(quantities) > 1:
            transaction.set_rollback(True)
    if short:
        raise InsufficientStock(_("Not enough stock for some products."), lines=short)
    return result


def _locked_row(cursor: CursorWrapper, table: str, user_id: int) -> tuple[int, int]:
    """(id, version) of the user's cart/wishlist row, locked until the transaction ends, and
    created if missing. Racing first requests end up with one row: the insert ignores the
    conflict and both then lock the winner."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    select = f"SELECT id, version FROM {table} WHERE user_id = %s{lock}"
    cursor.execute(select, [user_id])
    row = cursor.fetchone()
    if row is None:
        cursor.execute(
            f"INSERT INTO {table} (user_id, version, updated_at) VALUES (%s, 0, %s) "
            "ON CONFLICT (user_id) DO NOTHING",
            [user_id, timezone.now()],
        )
        cursor.execute(select, [user_id])
        row = cursor.fetchone()
    return int(row[0]), int(row[1])
