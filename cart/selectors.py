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


@dataclass(frozen=True)
class DeliveryEstimate:
    """The delivery zone the cart page estimates for, as it shows it."""

    name: str
    fee_minor: int
    free_from_minor: int | None


@dataclass(frozen=True)
class CartSummary:
    """Everything the cart page shows of the cart as a whole: its version, counts and totals,
    and the delivery estimate. The parts drawn from it alone are ``{% shared cart_summary %}``
    (one copy per language and summary)."""

    version: int
    count: int
    subtotal_minor: int
    lines: int
    has_problems: bool
    zone: DeliveryEstimate | None
    delivery_fee_minor: int


def cart_summary(
    cart: CartView, *, zone: DeliveryEstimate | None, delivery_fee_minor: int
) -> CartSummary:
    return CartSummary(
        version=cart.version,
        count=cart.count,
        subtotal_minor=cart.subtotal_minor,
        lines=len(cart.lines),
        has_problems=cart.has_problems,
        zone=zone,
        delivery_fee_minor=delivery_fee_minor,
    )


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
