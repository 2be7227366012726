"""/api/wishlist: thin endpoints over wishlist.services and wishlist.selectors."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Path, Router, Schema
from ninja.decorators import decorate_view

from catalog.api import AvailabilityOut
from haat.errors import NotInWishlist, ProductNotFound, ProductUnavailable
from haat.limits import rate_limit
from haat.schemas import (
    BODY,
    INVALID_REQUEST,
    READ,
    WRITE,
    Money,
    PathProductId,
    ProductId,
    StrictSchema,
    answers,
    money,
    refusal,
    shopper_id,
)
from wishlist import selectors, services

router = Router(tags=["wishlist"])


class WishlistItemOut(Schema):
    product_id: int
    slug: str
    name: str
    image: str
    price: Money | None
    stock: int
    in_stock: bool
    available: bool
    in_cart: int
    can_add_to_cart: bool
    availability: AvailabilityOut


class WishlistOut(Schema):
    items: list[WishlistItemOut]
    count: int
    version: int


class ToggleIn(StrictSchema):
    product_id: ProductId


class ToggleOut(Schema):
    in_wishlist: bool
    count: int
    version: int


def _wishlist(user_id: int) -> dict[str, Any]:
    view = selectors.wishlist_get(user_id=user_id)
    return {
        "items": [
            {
                "product_id": item.product_id,
                "slug": item.slug,
                "name": item.name,
                "image": item.image_url,
                "price": money(item.price_minor) if item.price_minor is not None else None,
                "stock": item.stock,
                "in_stock": item.in_stock,
                "available": item.available,
                "in_cart": item.in_cart,
                "can_add_to_cart": item.can_add_to_cart,
                "availability": item.availability.as_data(),
            }
            for item in view.items
        ],
        "count": len(view.items),
        "version": view.version,
    }


@router.get(
    "",
    **answers(WishlistOut, *READ),
    summary="The shopper's wishlist with availability flags",
)
def wishlist_read(request: HttpRequest) -> dict[str, Any]:
    return _wishlist(shopper_id(request))


@router.post(
    "/toggle",
    **answers(ToggleOut, *WRITE, *BODY, refusal(ProductNotFound), refusal(ProductUnavailable)),
    summary="Add the product, or remove it if present",
)
@decorate_view(rate_limit("cart_write"))
def wishlist_toggle(request: HttpRequest, payload: ToggleIn) -> dict[str, Any]:
    in_wishlist, contents = services.wishlist_toggle(
        user_id=shopper_id(request), product_id=payload.product_id
    )
    return {"in_wishlist": in_wishlist, "count": len(contents.items), "version": contents.version}


@router.delete(
    "/items/{product_id}",
    **answers(WishlistOut, *WRITE, INVALID_REQUEST, refusal(NotInWishlist)),
    summary="Remove one item",
)
@decorate_view(rate_limit("cart_write"))
def wishlist_remove(request: HttpRequest, product_id: Path[PathProductId]) -> dict[str, Any]:
    services.wishlist_remove(user_id=shopper_id(request), product_id=product_id)
    return _wishlist(shopper_id(request))
