"""Whether a product can be bought, and what the shopper is told about it. Decided here only:
the catalogue, cart, wishlist and checkout read it, templates render it, and the page's
JavaScript is handed it as data (``as_data``) and shows it without deciding anything again."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.functional import Promise, lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from catalog.money import format_number

IN_STOCK = "in_stock"
LOW_STOCK = "low_stock"
OUT_OF_STOCK = "out_of_stock"
UNAVAILABLE = "unavailable"  # withdrawn from sale, or no longer in the catalogue

# Every availability message, in one place. ``{stock}`` is the number of units on sale.
MESSAGES = {
    IN_STOCK: _("In stock"),
    LOW_STOCK: _("Only {stock} left"),
    OUT_OF_STOCK: _("Out of stock"),
    UNAVAILABLE: _("No longer available"),
}


@dataclass(frozen=True)
class Availability:
    code: str
    message: str | Promise  # lazy: translated when rendered
    stock: int  # units on sale now (0 when unavailable)
    max_quantity: int  # most units one cart line may hold now

    @property
    def can_buy(self) -> bool:
        return self.max_quantity > 0

    @property
    def is_low(self) -> bool:
        return self.code == LOW_STOCK

    def addable(self, in_cart: int) -> int:
        """How many more units a shopper who has ``in_cart`` may still add."""
        return max(0, self.max_quantity - in_cart)

    def short_by(self, quantity: int) -> int:
        """How many of ``quantity`` units cannot be bought now."""
        return max(0, quantity - self.max_quantity)

    def as_data(self) -> dict[str, Any]:
        """What the API answers and the page's JavaScript reads."""
        return {
            "code": self.code,
            "message": str(self.message),
            "stock": self.stock,
            "max_quantity": self.max_quantity,
            "can_buy": self.can_buy,
        }


def _digits(count: int) -> str:
    """``count`` written in the language active when the message is shown (১২ in Bangla)."""
    return lazy(lambda: format_number(count), str)()


def availability_code(*, stock: int, is_published: bool = True) -> str:
    """The code of ``availability_of(...)`` alone, without its message (a listing's cache keys
    need it for every card)."""
    return _code(stock, is_published, settings.LOW_STOCK_THRESHOLD)


def availability_codes(products: Iterable[tuple[int, bool]]) -> list[str]:
    """``availability_code`` of each (stock, is_published), the threshold read once (a listing's
    cache keys need one for each card)."""
    low = settings.LOW_STOCK_THRESHOLD
    return [_code(stock, is_published, low) for stock, is_published in products]


def _code(stock: int, is_published: bool, low_stock_threshold: int) -> str:
    if not is_published:
        return UNAVAILABLE
    if stock <= 0:
        return OUT_OF_STOCK
    return LOW_STOCK if stock <= low_stock_threshold else IN_STOCK


def availability_of(*, stock: int, is_published: bool = True) -> Availability:
    """The availability of a product with ``stock`` units; ``is_published=False`` also covers a
    product that no longer exists."""
    code = availability_code(stock=stock, is_published=is_published)
    if code == LOW_STOCK:
        return Availability(
            LOW_STOCK, format_lazy(MESSAGES[LOW_STOCK], stock=_digits(stock)), stock, stock
        )
    if code == IN_STOCK:
        return Availability(IN_STOCK, MESSAGES[IN_STOCK], stock, stock)
    return Availability(code, MESSAGES[code], 0, 0)
