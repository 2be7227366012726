"""/api/cart: thin endpoints over cart.services and cart.selectors."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Path, Router, Schema
from ninja.decorators import decorate_view
from pydantic import Field

from cart import selectors, services
from catalog.api import AvailabilityOut
from haat.errors import InsufficientStock, NotInCart, ProductNotFound, ProductUnavailable
from haat.limits import rate_limit
from haat.schemas import (
    BODY,
    INVALID_QUANTITY,
    INVALID_REQUEST,
    READ,
    WRITE,
    Money,
    PathProductId,
    ProductId,
    Quantity,
    StrictSchema,
    answer_as_built,
    answers,
    money,
    refusal,
    shopper_id,
)
from haat.store import CartContents

router = Router(tags=["cart"])


class CartLineOut(Schema):
    product_id: int
    slug: str
    name: str
    image: str
    unit_price: Money
    quantity: int
    line_total: Money
    stock: int
    max_quantity: int
    short_by: int
    available: bool
    availability: AvailabilityOut


class CartOut(Schema):
    lines: list[CartLineOut]
    count: int = Field(description="Units in the cart")
    subtotal: Money
    version: int


class AddLineIn(StrictSchema):
    product_id: ProductId
    quantity: Quantity


class SetQuantityIn(StrictSchema):
    quantity: Quantity


class RemoveLinesIn(StrictSchema):
    product_ids: list[ProductId] = Field(min_length=1, max_length=500)


class RemoveLinesOut(CartOut):
    removed: list[int]
    not_in_cart: list[int]


def cart_out(user_id: int, contents: CartContents | None = None) -> dict[str, Any]:
    """The cart as ``CartOut`` gives it, field by field in its order (``answer_as_built``)."""
    view = selectors.cart_get(user_id=user_id, contents=contents)
    return {
        "lines": [
            {
                "product_id": line.product_id,
                "slug": line.slug,
                "name": line.name,
                "image": line.image_url,
                "unit_price": money(line.unit_price_minor),
                "quantity": line.quantity,
                "line_total": money(line.line_total_minor),
                "stock": line.stock,
                "max_quantity": line.max_quantity,
                "short_by": line.short_by,
                "available": line.available,
                "availability": line.availability.as_data(),
            }
            for line in view.lines
        ],
        "count": view.count,
        "subtotal": money(view.subtotal_minor),
        "version": view.version,
    }


@router.get(
    "",
    **answers(CartOut, *READ),
    summary="The shopper's cart, every line checked against stock",
)
def cart_read(request: HttpRequest) -> HttpResponse:
    return answer_as_built(cart_out(shopper_id(request)))


@router.post(
    "/lines",
    **answers(
        CartOut,
        *WRITE,
        *BODY,
        INVALID_QUANTITY,
        refusal(ProductNotFound),
        refusal(InsufficientStock),
        refusal(ProductUnavailable),
    ),
    summary="Add to the cart (adds to an existing line)",
)
@decorate_view(rate_limit("cart_write"))
def cart_add(request: HttpRequest, payload: AddLineIn) -> HttpResponse:
    contents = services.cart_add_line(
        user_id=shopper_id(request), product_id=payload.product_id, quantity=payload.quantity
    )
    return answer_as_built(cart_out(shopper_id(request), contents))


@router.post(
    "/lines/remove", **answers(RemoveLinesOut, *WRITE, *BODY), summary="Remove the selected lines"
)
@decorate_view(rate_limit("cart_write"))
def cart_remove_selected(request: HttpRequest, payload: RemoveLinesIn) -> dict[str, Any]:
    result = services.cart_remove_lines(
        user_id=shopper_id(request), product_ids=payload.product_ids
    )
    return {
        **cart_out(shopper_id(request), result.cart),
        "removed": result.removed,
        "not_in_cart": result.not_in_cart,
    }


@router.patch(
    "/lines/{product_id}",
    **answers(
        CartOut,
        *WRITE,
        *BODY,
        INVALID_QUANTITY,
        refusal(NotInCart),
        refusal(ProductNotFound),
        refusal(InsufficientStock),
        refusal(ProductUnavailable),
    ),
    summary="Set a line's quantity (1..stock)",
)
@decorate_view(rate_limit("cart_write"))
def cart_set(
    request: HttpRequest, product_id: Path[PathProductId], payload: SetQuantityIn
) -> HttpResponse:
    contents = services.cart_set_quantity(
        user_id=shopper_id(request), product_id=product_id, quantity=payload.quantity
    )
    return answer_as_built(cart_out(shopper_id(request), contents))


@router.delete(
    "/lines/{product_id}",
    **answers(CartOut, *WRITE, INVALID_REQUEST, refusal(NotInCart)),
    summary="Remove one line",
)
@decorate_view(rate_limit("cart_write"))
def cart_remove(request: HttpRequest, product_id: Path[PathProductId]) -> HttpResponse:
    contents = services.cart_remove_line(user_id=shopper_id(request), product_id=product_id)
    return answer_as_built(cart_out(shopper_id(request), contents))
