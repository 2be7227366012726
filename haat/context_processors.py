"""What every page's header needs: shop name, category menu, cart and wishlist counts, and the
signed-in shopper's compact state for the page's local store.

Everything is lazy and computed once: a page that never renders it costs no queries for it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from cart.selectors import cart_contents
from catalog.money import shop_currency
from catalog.selectors import category_list
from haat.validation import quantity_message
from wishlist.selectors import wishlist_contents


def shopper_state(user_id: int) -> dict[str, Any]:
    """The same compact state as ``GET /api/state``."""
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


def request_shopper_state(request: HttpRequest) -> dict[str, Any] | None:
    """The signed-in shopper's state, read once per request (views and the header share it)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if not hasattr(request, "_haat_shopper_state"):
        request._haat_shopper_state = shopper_state(user.pk)  # type: ignore[attr-defined]
    return request._haat_shopper_state  # type: ignore[attr-defined]


def shop(request: HttpRequest) -> dict[str, Any]:
    def state() -> dict[str, Any] | None:
        return request_shopper_state(request)

    currency = shop_currency()
    return {
        "shop_name": settings.SHOP_NAME,
        "currency_code": currency.code,
        "currency": currency,
        "quantity_message": quantity_message,  # the quantity rule's refusal, for the JavaScript
        "menu_categories": SimpleLazyObject(lambda: list(category_list())),
        # Templates call these when (and only when) they use them.
        "shopper_state": lambda: state() or {},
        "cart_count": lambda: (state() or {}).get("cart_count", 0),
        "wishlist_count": lambda: (state() or {}).get("wishlist_count", 0),
    }
