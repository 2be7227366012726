"""What every page's header needs: shop name, category menu, cart and wishlist counts, and the
signed-in shopper's compact state for the page's local store.

Everything is lazy and computed once: a page that never renders it costs no queries for it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from accounts.selectors import shopper_state
from catalog.money import shop_currency
from catalog.selectors import category_list
from haat.validation import quantity_message


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
