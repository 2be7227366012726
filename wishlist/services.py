"""Changing a wishlist: toggle (add or remove) and remove."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext as _

from haat.errors import NotInWishlist, ProductNotFound, ProductUnavailable
from haat.store import ProductState, WishlistContents, WishlistEntry, get_store


def wishlist_toggle(*, user_id: int, product_id: int) -> tuple[bool, WishlistContents]:
    """Add the product, or remove it if it is already there. Returns (now in wishlist, contents).

    Removing always works, even for products since unpublished or deleted; adding needs a
    product that is on sale (out of stock is fine: that is what wishlists are for)."""
    added = False

    def change(
        items: list[WishlistEntry], products: Mapping[int, ProductState]
    ) -> list[WishlistEntry]:
        nonlocal added
        kept = [item for item in items if item.product_id != product_id]
        if len(kept) != len(items):
            added = False
            return kept
        product = products.get(product_id)
        if product is None:
            raise ProductNotFound(_("This product does not exist."), product_id=product_id)
        if not product.is_published:
            raise ProductUnavailable(_("This product is no longer on sale."), product_id=product_id)
        added = True
        return [WishlistEntry(product.id, product.name, product.slug), *items]

    contents = get_store().wishlist_update(user_id, [product_id], change)
    return added, contents


def wishlist_add(*, user_id: int, product_id: int) -> WishlistContents:
    """Make sure the product is in the wishlist (used when resuming a heart click after sign-in,
    where a toggle could remove what the shopper meant to add)."""

    def change(
        items: list[WishlistEntry], products: Mapping[int, ProductState]
    ) -> list[WishlistEntry]:
        if any(item.product_id == product_id for item in items):
            return items
        product = products.get(product_id)
        if product is None:
            raise ProductNotFound(_("This product does not exist."), product_id=product_id)
        if not product.is_published:
            raise ProductUnavailable(_("This product is no longer on sale."), product_id=product_id)
        return [WishlistEntry(product.id, product.name, product.slug), *items]

    return get_store().wishlist_update(user_id, [product_id], change)


def wishlist_remove(*, user_id: int, product_id: int) -> WishlistContents:
    def change(
        items: list[WishlistEntry], products: Mapping[int, ProductState]
    ) -> list[WishlistEntry]:
        kept = [item for item in items if item.product_id != product_id]
        if len(kept) == len(items):
            raise NotInWishlist(_("This product is not in your wishlist."), product_id=product_id)
        return kept

    return get_store().wishlist_update(user_id, [], change)
