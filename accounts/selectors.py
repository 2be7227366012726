"""What a signed-in shopper has: the compact cart and wishlist state that every page's local
store keeps (``GET /api/state``, and the pages' header through ``haat.context_processors``)."""

from __future__ import annotations

from typing import Any

from haat.store import CartContents, WishlistContents, get_store


def shopper_state(
    user_id: int, cart: CartContents | None = None, wishlist: WishlistContents | None = None
) -> dict[str, Any]:
    """``cart`` and ``wishlist``: both as the caller just read them (not read again); else they
    are read in one round trip."""
    if cart is None or wishlist is None:
        cart, wishlist = get_store().shopper_get(user_id)
    return {
        "cart": {str(pk): quantity for pk, quantity in cart.lines.items()},
        "wishlist": wishlist.product_ids,
        "cart_count": cart.count,
        "cart_lines": len(cart.lines),
        "wishlist_count": len(wishlist.items),
        "cart_version": cart.version,
        "wishlist_version": wishlist.version,
        # Both versions only ever grow, so their sum changes on every change of either.
        "version": cart.version + wishlist.version,
    }
