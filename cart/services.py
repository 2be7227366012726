"""Changing a cart. Each function is one atomic store update; the rules are the inner
``change`` functions, checked against the products as they are inside that same update."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from catalog.availability import availability_of
from haat.errors import (
    InsufficientStock,
    NotInCart,
    ProductNotFound,
    ProductUnavailable,
    ShortItem,
)
from haat.store import CartContents, ProductState, get_store
from haat.validation import validate_quantity


def _on_sale(products: Mapping[int, ProductState], product_id: int) -> ProductState:
    product = products.get(product_id)
    if product is None:
        raise ProductNotFound(product_id=product_id)
    if not product.is_published:
        raise ProductUnavailable(product_id=product_id)
    return product


def cart_add_line(*, user_id: int, product_id: int, quantity: int) -> CartContents:
    """Add ``quantity`` to the product's line (creating it). The cart's total for the product
    may never exceed its stock; when it would, nothing changes and the refusal says how many
    there are."""
    quantity = validate_quantity(quantity)

    def change(lines: dict[int, int], products: Mapping[int, ProductState]) -> dict[int, int]:
        product = _on_sale(products, product_id)
        in_cart = lines.get(product_id, 0)
        can_add = availability_of(stock=product.stock).addable(in_cart)
        if quantity > can_add:
            # The line would hold in_cart + quantity; the refusal says how many there are.
            raise InsufficientStock(
                items=[ShortItem(product_id, product.name, in_cart + quantity, product.stock)]
            )
        lines[product_id] = in_cart + quantity
        return lines

    return get_store().cart_update(user_id, [product_id], change)


def cart_add_one_unless_full(*, user_id: int, product_id: int) -> CartContents:
    """Add one unit, unless the cart already holds every unit there is (then nothing changes:
    the product is in the cart all the same). Moving a wishlist item into the cart asks this;
    refused like ``cart_add_line`` when there is none to have."""

    def change(lines: dict[int, int], products: Mapping[int, ProductState]) -> dict[int, int]:
        product = _on_sale(products, product_id)
        in_cart = lines.get(product_id, 0)
        if availability_of(stock=product.stock).addable(in_cart) > 0:
            lines[product_id] = in_cart + 1
        elif not in_cart:
            raise InsufficientStock(items=[ShortItem(product_id, product.name, 1, product.stock)])
        return lines

    return get_store().cart_update(user_id, [product_id], change)


def cart_set_quantity(*, user_id: int, product_id: int, quantity: int) -> CartContents:
    """Set a line's quantity to a number in 1..stock."""
    quantity = validate_quantity(quantity)

    def change(lines: dict[int, int], products: Mapping[int, ProductState]) -> dict[int, int]:
        if product_id not in lines:
            raise NotInCart(product_id=product_id)
        product = _on_sale(products, product_id)
        if quantity > product.stock:
            raise InsufficientStock(
                items=[ShortItem(product_id, product.name, quantity, product.stock)]
            )
        lines[product_id] = quantity
        return lines

    return get_store().cart_update(user_id, [product_id], change)


def cart_remove_line(*, user_id: int, product_id: int) -> CartContents:
    def change(lines: dict[int, int], products: Mapping[int, ProductState]) -> dict[int, int]:
        if lines.pop(product_id, None) is None:
            raise NotInCart(product_id=product_id)
        return lines

    return get_store().cart_update(user_id, [], change)


@dataclass(frozen=True)
class RemovedLines:
    cart: CartContents
    removed: list[int]
    not_in_cart: list[int]


def cart_remove_lines(*, user_id: int, product_ids: Iterable[int]) -> RemovedLines:
    """Remove the selected lines at once; ids that are not in the cart are reported back."""
    wanted = list(dict.fromkeys(product_ids))
    removed: list[int] = []
    missing: list[int] = []

    def change(lines: dict[int, int], products: Mapping[int, ProductState]) -> dict[int, int]:
        removed.clear()
        missing.clear()
        for product_id in wanted:
            (removed if lines.pop(product_id, None) is not None else missing).append(product_id)
        return lines

    cart = get_store().cart_update(user_id, [], change)
    return RemovedLines(cart, list(removed), list(missing))


def cart_remove_quantities(*, user_id: int, quantities: Mapping[int, int]) -> CartContents:
    """Take bought quantities out of the cart (after a paid order): lines drop to what is left
    over, or disappear. Lines the shopper already removed are simply skipped."""

    def change(lines: dict[int, int], products: Mapping[int, ProductState]) -> dict[int, int]:
        for product_id, bought in quantities.items():
            if product_id in lines:
                left = lines[product_id] - bought
                if left > 0:
                    lines[product_id] = left
                else:
                    del lines[product_id]
        return lines

    return get_store().cart_update(user_id, [], change)


def cart_remove_bought(*, user_id: int, lines: list[list[int]]) -> CartContents:
    """``cart_remove_quantities`` as a background task after a payment: ``lines`` are
    [product id, quantity] pairs (task arguments are JSON)."""
    return cart_remove_quantities(
        user_id=user_id, quantities={int(pk): int(quantity) for pk, quantity in lines}
    )
