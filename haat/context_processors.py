"""What every page's header needs: shop name, category menu, cart and wishlist counts.

Everything is lazy: a page that never renders the header costs no queries for it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from cart.selectors import cart_contents
from catalog.selectors import category_list
from wishlist.selectors import wishlist_contents


def shop(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    user_id = user.pk if user is not None and user.is_authenticated else None

    def cart_count() -> int:
        return cart_contents(user_id=user_id).count if user_id else 0

    def wishlist_count() -> int:
        return len(wishlist_contents(user_id=user_id).items) if user_id else 0

    return {
        "shop_name": settings.SHOP_NAME,
        "currency_code": settings.SHOP_CURRENCY,
        "menu_categories": SimpleLazyObject(lambda: list(category_list())),
        "cart_count": SimpleLazyObject(cart_count),
        "wishlist_count": SimpleLazyObject(wishlist_count),
    }
