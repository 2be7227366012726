"""/api/wishlist: thin endpoints over wishlist.services and wishlist.selectors."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Path, Router, Schema
from ninja.decorators import decorate_view
from pydantic import Field, StrictBool

from cart.api import CartOut, cart_out
from catalog.api import AvailabilityOut
from haat.errors import (
    AlertNotNeeded,
    InsufficientStock,
    NotInCart,
    NotInWishlist,
    ProductNotFound,
    ProductUnavailable,
)
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
from haat.store import WishlistContents
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
    added_price: Money | None = Field(description="The price when it was saved")
    price_drop: Money | None = Field(description="How much cheaper it is now; null if not")
    can_ask_alert: bool = Field(description="Out of stock: a back-in-stock alert may be asked")
    alert_wanted: bool = Field(description="A back-in-stock alert is asked for")
    back_in_stock: bool = Field(description="The alert was sent and it is still in stock")


class WishlistOut(Schema):
    items: list[WishlistItemOut]
    count: int
    back_in_stock_count: int
    version: int


class WishlistStateOut(Schema):
    product_ids: list[int] = Field(description="Newest first")
    count: int
    version: int


class MoveOut(Schema):
    cart: CartOut
    wishlist: WishlistStateOut


class FromCartIn(StrictSchema):
    product_id: ProductId


class AlertIn(StrictSchema):
    wanted: StrictBool


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
                "price": _money_or_none(item.price_minor),
                "stock": item.stock,
                "in_stock": item.in_stock,
                "available": item.available,
                "in_cart": item.in_cart,
                "can_add_to_cart": item.can_add_to_cart,
                "availability": item.availability.as_data(),
                "added_price": _money_or_none(item.added_price_minor),
                "price_drop": _money_or_none(item.price_drop_minor or None),
                "can_ask_alert": item.can_ask_alert,
                "alert_wanted": item.alert_wanted,
                "back_in_stock": item.back_in_stock,
            }
            for item in view.items
        ],
        "count": len(view.items),
        "back_in_stock_count": view.back_in_stock_count,
        "version": view.version,
    }


def _money_or_none(amount_minor: int | None) -> dict[str, object] | None:
    return None if amount_minor is None else money(amount_minor)


def _moved(user_id: int, cart: Any, wishlist: WishlistContents) -> dict[str, Any]:
    return {
        "cart": cart_out(user_id, cart),
        "wishlist": {
            "product_ids": wishlist.product_ids,
            "count": len(wishlist.items),
            "version": wishlist.version,
        },
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


@router.post(
    "/items/{product_id}/move-to-cart",
    **answers(
        MoveOut,
        *WRITE,
        INVALID_REQUEST,
        refusal(NotInWishlist),
        refusal(ProductNotFound),
        refusal(ProductUnavailable),
        refusal(InsufficientStock),
    ),
    summary="Put one in the cart (none more if it holds all there are) and off the wishlist",
)
@decorate_view(rate_limit("cart_write"))
def wishlist_move_to_cart(request: HttpRequest, product_id: Path[PathProductId]) -> dict[str, Any]:
    user_id = shopper_id(request)
    cart, wishlist = services.wishlist_move_to_cart(user_id=user_id, product_id=product_id)
    return _moved(user_id, cart, wishlist)


@router.post(
    "/from-cart",
    **answers(
        MoveOut,
        *WRITE,
        *BODY,
        refusal(NotInCart),
        refusal(ProductNotFound),
        refusal(ProductUnavailable),
    ),
    summary="Save for later: the cart line's product onto the wishlist, the line out of the cart",
)
@decorate_view(rate_limit("cart_write"))
def wishlist_save_from_cart(request: HttpRequest, payload: FromCartIn) -> dict[str, Any]:
    user_id = shopper_id(request)
    cart, wishlist = services.wishlist_save_from_cart(
        user_id=user_id, product_id=payload.product_id
    )
    return _moved(user_id, cart, wishlist)


@router.put(
    "/items/{product_id}/alert",
    **answers(
        WishlistOut,
        *WRITE,
        *BODY,
        refusal(NotInWishlist),
        refusal(ProductUnavailable),
        refusal(AlertNotNeeded),
    ),
    summary="Ask (or stop asking) to be told by e-mail when an out-of-stock item is back",
)
@decorate_view(rate_limit("cart_write"))
def wishlist_alert(
    request: HttpRequest, product_id: Path[PathProductId], payload: AlertIn
) -> dict[str, Any]:
    services.wishlist_alert_set(
        user_id=shopper_id(request), product_id=product_id, wanted=payload.wanted
    )
    return _wishlist(shopper_id(request))
