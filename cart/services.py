"""Changing a cart. Each function is one atomic store update; the rules are the inner
``change`` functions, checked against the products as they are inside that same update."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

from catalog.availability import availability_of
from haat.errors import InsufficientStock, NotInCart, ProductNotFound, ProductUnavailable
from haat.store import CartContents, ProductState, get_store
from haat.validation import validate_quantity


def _on_sale(products: Mapping[int, ProductState], product_id: int) -> ProductState:
    product = products.get(product_id)
    if product is None:
        raise ProductNotFound(_("This product does not exist."), product_id=product_id)
    if not product.is_published:
        raise ProductUnavailable(_("This product is no longer on sale."), product_id=product_id)
    return product


def cart_add_line(*, user_id: int, product_id: int, quantity: int) -> CartContents:
    """Add ``quantity`` to the product's line (creating it). The cart's total for the product
    may never exceed its stock; when it would, nothing changes and the refusal says how many
    can still be added."""
    quantity = validate_quantity(quantity)

    def change(lines: dict[int, int], products: Mapping[int, ProductState]) -> dict[int, int]:
        product = _on_sale(products, product_id)
        in_cart = lines.get(product_id, 0)
        can_add = availability_of(stock=product.stock).addable(in_cart)
        if quantity > can_add:
            if product.stock <= 0:
                message = f"{product.name} is out of stock."
            elif can_add == 0:
                message = f"You already have all {product.stock} available in your cart."
            else:
                message = f"Only {can_add} more can be added (stock {product.stock}, in your cart {in_cart})."
            raise InsufficientStock(
                message,
                product_id=product_id,
                requested=quantity,
                in_cart=in_cart,
                available=product.stock,
                max_addable=can_add,
            )
        lines[product_id] = in_cart + quantity
        return lines

    return get_store().cart_update(user_id, [product_id], change)


def cart_set_quantity(*, user_id: int, product_id: int, quantity: int) -> CartContents:
    """Set a line's quantity to a number in 1..stock."""
    quantity = validate_quantity(quantity)

    def change(lines: dict[int, int], products: Mapping[int, ProductState]) -> dict[int, int]:
        if product_id not in lines:
            raise NotInCart(_("This product is not in your cart."), product_id=product_id)
        product = _on_sale(products, product_id)
        if quantity > product.stock:
            raise InsufficientStock(
                f"Only {product.stock} of {product.name} in stock.",
                product_id=product_id,
                requested=quantity,
                available=product.stock,
                max_quantity=product.stock,
            )
        lines[product_id] = quantity
        return lines

    return get_store().cart_update(user_id, [product_id], change)


def cart_remove_line(*, user_id: int, product_id: int) -> CartContents:
    def change(lines: dict[int, int], products: Mapping[int, ProductState]) -> dict[int, int]:
        if lines.pop(product_id, None) is None:
            raise NotInCart(_("This product is not in your cart."), product_id=product_id)
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
