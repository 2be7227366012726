"""What a signed-in shopper has: the compact cart and wishlist state that every page's local
store keeps (``GET /api/state``, and the pages' header through ``haat.context_processors``)."""

from __future__ import annotations

from typing import Any

from cart.selectors import cart_contents
from wishlist.selectors import wishlist_contents


def shopper_state(user_id: int) -> dict[str, Any]:
    cart = cart_contents(user_id=user_id)
    wishlist = wishlist_contents(user_id=user_id)
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
