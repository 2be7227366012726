"""What every page's header needs: shop name, category menu, cart and wishlist counts."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from catalog.selectors import category_list


def shop(request: HttpRequest) -> dict[str, Any]:
    return {
        "shop_name": settings.SHOP_NAME,
        "currency_code": settings.SHOP_CURRENCY,
        "menu_categories": SimpleLazyObject(lambda: list(category_list())),
        "cart_count": 0,
        "wishlist_count": 0,
    }
