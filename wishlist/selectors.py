"""Reading a wishlist, each item flagged with what the shopper can do with it now."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from catalog.availability import UNAVAILABLE, Availability, availability_of
from haat.store import WishlistContents, get_store


@dataclass(frozen=True)
class WishlistItemView:
    product_id: int
    slug: str
    name: str
    image_url: str
    price_minor: int | None
    stock: int
    is_published: bool
    exists: bool
    in_cart: int
    added_price_minor: int | None = None
    alert_wanted: bool = False
    alert_sent: bool = False

    @cached_property
    def availability(self) -> Availability:
        return availability_of(stock=self.stock, is_published=self.exists and self.is_published)

    @property
    def available(self) -> bool:
        """Still in the catalogue and on sale (it may be out of stock)."""
        return self.availability.code != UNAVAILABLE

    @property
    def in_stock(self) -> bool:
        return self.availability.can_buy

    @property
    def can_add_to_cart(self) -> bool:
        return self.availability.addable(self.in_cart) > 0

    @property
    def price_drop_minor(self) -> int:
        """How much cheaper it is than when it was saved (0: not cheaper)."""
        if self.price_minor is None or self.added_price_minor is None:
            return 0
        return max(0, self.added_price_minor - self.price_minor)

    @property
    def can_ask_alert(self) -> bool:
        """Out of stock but on sale: the shopper may ask to be told when it is back."""
        return self.available and not self.in_stock

    @property
    def back_in_stock(self) -> bool:
        """The shopper asked, was told it is back, and it still is."""
        return self.alert_sent and self.in_stock


@dataclass(frozen=True)
class WishlistView:
    version: int
    items: list[WishlistItemView]

    @property
    def back_in_stock_count(self) -> int:
        return sum(1 for item in self.items if item.back_in_stock)


def wishlist_get(*, user_id: int) -> WishlistView:
    store = get_store()
    contents = store.wishlist_get(user_id)
    products = store.products(contents.product_ids)
    cart = store.cart_get(user_id).lines
    items = []
    for entry in contents.items:
        product = products.get(entry.product_id)
        if product is None:
            items.append(
                WishlistItemView(
                    entry.product_id,
                    entry.slug,
                    entry.name,
                    "",
                    None,
                    0,
                    False,
                    False,
                    0,
                    entry.added_price_minor,
                )
            )
            continue
        items.append(
            WishlistItemView(
                product_id=product.id,
                slug=product.slug,
                name=product.name,
                image_url=product.image_url,
                price_minor=product.price_minor,
                stock=product.stock,
                is_published=product.is_published,
                exists=True,
                in_cart=cart.get(product.id, 0),
                added_price_minor=entry.added_price_minor,
                alert_wanted=entry.alert_wanted,
                alert_sent=entry.alert_sent,
            )
        )
    return WishlistView(contents.version, items)


def wishlist_contents(*, user_id: int) -> WishlistContents:
    return get_store().wishlist_get(user_id)
