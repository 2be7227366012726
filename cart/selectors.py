"""Reading a cart, with every line checked against the product as it is now."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from catalog.availability import Availability, availability_of
from haat.store import CartContents, WishlistContents, get_store


@dataclass(frozen=True)
class CartLineView:
    product_id: int
    slug: str
    name: str
    image_url: str
    unit_price_minor: int
    quantity: int
    stock: int
    is_published: bool
    exists: bool

    @cached_property
    def availability(self) -> Availability:
        return availability_of(stock=self.stock, is_published=self.exists and self.is_published)

    @property
    def available(self) -> bool:
        """Can this line be bought at all right now?"""
        return self.availability.can_buy

    @property
    def short_by(self) -> int:
        """How many units of this line cannot be bought (all of them when unavailable)."""
        return self.availability.short_by(self.quantity)

    @property
    def max_quantity(self) -> int:
        return self.availability.max_quantity

    @property
    def line_total_minor(self) -> int:
        return self.unit_price_minor * self.quantity


@dataclass(frozen=True)
class CartView:
    version: int
    lines: list[CartLineView]

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def subtotal_minor(self) -> int:
        """What the buyable lines cost; lines that are off sale don't count."""
        return sum(line.line_total_minor for line in self.lines if line.available)

    @property
    def has_problems(self) -> bool:
        return any(line.short_by for line in self.lines)


def cart_get(*, user_id: int, contents: CartContents | None = None) -> CartView:
    """The cart with every line checked against stock. Pass the ``contents`` a service just
    returned to skip reading the cart again, and the products when the update read them (in
    its own transaction, a moment ago: as current as a read now would be to the shopper)."""
    store = get_store()
    if contents is None:
        contents = store.cart_get(user_id)
    products = contents.products
    if products is None or not products.keys() >= contents.lines.keys():
        products = store.products(contents.lines)
    lines = []
    for product_id, quantity in contents.lines.items():
        product = products.get(product_id)
        if product is None:
            # Deleted between the two reads; show it as unavailable rather than fail.
            lines.append(
                CartLineView(product_id, "", "Removed product", "", 0, quantity, 0, False, False)
            )
            continue
        lines.append(
            CartLineView(
                product_id=product_id,
                slug=product.slug,
                name=product.name,
                image_url=product.image_url,
                unit_price_minor=product.price_minor,
                quantity=quantity,
                stock=product.stock,
                is_published=product.is_published,
                exists=True,
            )
        )
    return CartView(contents.version, lines)


def cart_and_wishlist_contents(*, user_id: int) -> tuple[CartContents, WishlistContents]:
    """The cart with the wishlist, in one read: the cart page's lines and its header's counts."""
    return get_store().shopper_get(user_id)


def cart_contents(*, user_id: int) -> CartContents:
    """Just product ids and quantities: what the header badge and the page's local store need."""
    return get_store().cart_get(user_id)
