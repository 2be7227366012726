"""The storage interface: where catalogue stock, carts and wishlists are kept.

Services own the rules; a store owns persistence and atomicity. Every read-modify-write goes
through ``cart_update`` / ``wishlist_update``: the store loads the current contents and the
products involved, calls the service's pure ``change`` function (which may refuse by raising a
``DomainError``), and writes the result atomically — under a row lock in the database store, under
a revision check (with retries) in a document store. ``stock_take`` is all-or-nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class ProductState:
    id: int
    slug: str
    name: str
    price_minor: int
    stock: int
    is_published: bool
    image_url: str = ""


@dataclass(frozen=True)
class CartContents:
    version: int = 0
    # product id → quantity, oldest line first
    lines: dict[int, int] = field(default_factory=dict)
    # The products as ``cart_update`` read them inside its update (every line's, and those it
    # was asked about), so the answer needs no second read; None when they were not read.
    products: Mapping[int, ProductState] | None = field(default=None, compare=False, repr=False)

    @property
    def count(self) -> int:
        return sum(self.lines.values())


@dataclass(frozen=True)
class WishlistEntry:
    product_id: int
    name: str
    slug: str
    # The product's price when it was saved (None: saved before prices were kept, or unknown).
    added_price_minor: int | None = None
    # "Tell me when it's back": asked for and not yet sent; sent (the shopper was told) until
    # they ask again.
    alert_wanted: bool = False
    alert_sent: bool = False


@dataclass(frozen=True)
class WishlistContents:
    version: int = 0
    items: tuple[WishlistEntry, ...] = ()  # newest first

    @property
    def product_ids(self) -> list[int]:
        return [item.product_id for item in self.items]


@dataclass(frozen=True)
class AlertWanted:
    user_id: int
    product_id: int


CartChange = Callable[[dict[int, int], Mapping[int, ProductState]], dict[int, int]]
WishlistChange = Callable[[list[WishlistEntry], Mapping[int, ProductState]], list[WishlistEntry]]


class Store(Protocol):
    def products(self, ids: Iterable[int]) -> dict[int, ProductState]:
        """Current state of these products (unknown ids are left out). Never cached."""
        ...

    def products_changed(self, product_ids: Iterable[int]) -> None:
        """These products were changed, created or deleted in the database, inside the caller's
        transaction. A store keeping a copy records them for delivery after commit."""
        ...

    def deliver_changes(
        self, product_ids: Iterable[int] | None = None, *, ignore_backoff: bool = False
    ) -> int:
        """Bring the store's copy of changed products up to date (these, or all that are due);
        returns how many were delivered. Called after commit, by the background jobs."""
        ...

    def reconcile(self) -> dict[str, int]:
        """Compare the store's copy with the database and repair what differs."""
        ...

    def stock_adjust(self, product_id: int, delta: int) -> tuple[str, int]:
        """Add ``delta`` to stock, refusing to go below zero. Returns (product name, new stock).
        Raises ProductNotFound or InsufficientStock and changes nothing."""
        ...

    def stock_take(self, quantities: Mapping[int, int]) -> dict[int, int]:
        """Take stock for several products at once, all or nothing. Returns the new stock levels.
        Raises InsufficientStock (details: every short product) and changes nothing."""
        ...

    def stock_take_recorded(
        self, quantities: Mapping[int, int], *, reason: str, reference: str, actor_id: int | None
    ) -> dict[int, int] | None:
        """Like ``stock_take``, but also writing the stock ledger rows in the very statements
        that move the stock (one round trip per product while its row is locked). Returns None
        when this store cannot: the caller then writes the ledger itself."""
        ...

    def stock_return_recorded(
        self, quantities: Mapping[int, int], *, reason: str, reference: str, actor_id: int | None
    ) -> dict[int, int] | None:
        """Put units back, with their ledger rows in the statements that move the stock (one
        round trip per product, in ascending id). Products that no longer exist are skipped.
        Returns the new stock levels, or None when this store cannot: the caller then goes
        through ``stock_adjust`` and writes the ledger itself."""
        ...

    def cart_get(self, user_id: int) -> CartContents: ...

    def cart_update(
        self, user_id: int, product_ids: Iterable[int], change: CartChange
    ) -> CartContents:
        """Atomically replace the cart's lines with ``change(lines, products)``."""
        ...

    def wishlist_get(self, user_id: int) -> WishlistContents: ...

    def shopper_get(self, user_id: int) -> tuple[CartContents, WishlistContents]:
        """The shopper's cart and wishlist, read together (what every page's header shows)."""
        ...

    def wishlist_update(
        self, user_id: int, product_ids: Iterable[int], change: WishlistChange
    ) -> WishlistContents:
        """Atomically replace the wishlist's items with ``change(items, products)``."""
        ...

    def wishlist_alerts_wanted(self, product_ids: Iterable[int] | None = None) -> list[AlertWanted]:
        """Every back-in-stock alert asked for and not yet sent (of these products, or all)."""
        ...
