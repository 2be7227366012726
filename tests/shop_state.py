"""Everything a refused request must leave alone, in one comparable snapshot: stock, carts,
wishlists (read through the store, so it works with every backend), orders, reservations, the
stock ledger and accounts."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from catalog.models import Product, StockMovement
from checkout.models import Reservation
from haat.store import get_store
from orders.models import Order, OrderLine


def shop_state() -> dict[str, Any]:
    store = get_store()
    product_ids = list(Product.objects.values_list("pk", flat=True))
    user_ids = list(User.objects.order_by("pk").values_list("pk", flat=True))
    return {
        "products": sorted(
            (pk, state.stock, state.price_minor, state.is_published)
            for pk, state in store.products(product_ids).items()
        ),
        "carts": {pk: store.cart_get(pk).lines for pk in user_ids},
        "wishlists": {pk: store.wishlist_get(pk).product_ids for pk in user_ids},
        "orders": list(
            Order.objects.order_by("pk").values_list(
                "pk", "status", "total_minor", "delivery_name", "delivery_address"
            )
        ),
        "order_lines": OrderLine.objects.count(),
        "reservations": list(Reservation.objects.order_by("pk").values_list("pk", "status")),
        "ledger": list(StockMovement.objects.order_by("pk").values_list("pk", "delta")),
        "users": list(
            User.objects.order_by("pk").values_list("pk", "email", "full_name", "password")
        ),
    }
