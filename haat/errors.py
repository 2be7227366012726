"""Refusals ("problems"): a stable ``code`` for programs, a ``message`` for people, and
``details`` (facts a program can act on, e.g. how many units are left).

Every message is in ``MESSAGES`` below, the one catalogue, marked for translation; a refusal
names its entry (its code, or ``code.variant``) and the entry's ``%(name)s`` placeholders are
filled from its details when the message is read, in the language active then. Services raise
these; the API answers them as ``{code, message, details}`` (``haat.api``), the pages show
their message, and nothing was changed when one is raised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from django.core.exceptions import BadRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

MESSAGES: dict[str, Promise] = {
    # Answers that no domain rule gives (the request, not the shop, is the problem).
    "invalid_request": _("The request could not be understood."),
    "invalid_request.fields": _("The request is not valid (%(summary)s)."),
    "invalid_request.too_long": _("%(what)s can be at most %(max_length)s characters."),
    "invalid_product_id": _("That product could not be found."),
    "invalid_order_id": _("We couldn't find that order."),
    "invalid_delivery_zone_id": _("Choose one of the delivery areas shown."),
    "malformed_json": _("The request body is not valid JSON."),
    "not_authenticated": _("Sign in to use your cart and wishlist."),
    "csrf_failed": _("Security check failed: reload the page and try again."),
    "forbidden": _("You may not do that."),
    "not_found": _("Nothing here."),
    "method_not_allowed": _("This address does not accept that method."),
    "payload_too_large": _("The request body is too large."),
    "payload_too_large.page": _("That was more data than the shop accepts in one request."),
    "rate_limited": _("Too many requests. Please wait %(wait)s and try again."),
    "rate_limited.plain": _("Too many requests. Wait a moment and try again."),
    "rate_limited.sign_in": _(
        "Too many sign-in attempts. Please wait %(wait)s and try again, or reset your password."
    ),
    "server_error": _("Something went wrong on our side. Please try again."),
    "unavailable": _("The shop is busy. Please try again in a moment."),
    "store_busy": _("Many people are changing this right now. Please try again in a moment."),
    # Quantities and totals.
    "invalid_quantity": _("Quantity must be a whole number from 1 to %(max_quantity)s."),
    "invalid_quantity.stock_change": _("A stock change must be a non-zero whole number."),
    "invalid_quantity.stock_take": _("Quantities must be whole numbers of at least 1."),
    "total_too_large": _(
        "This order's total is more than the shop can take in one order. "
        "Buy fewer at once, or split it into several orders."
    ),
    # Catalogue, cart and wishlist.
    "product_not_found": _("That product could not be found."),
    "product_unavailable": _("This product is no longer on sale."),
    "insufficient_stock": _(
        "Some items are not available in the quantity you asked for. Nothing was reserved."
    ),
    "insufficient_stock.one": _("Only %(available)s of %(name)s in stock."),
    "insufficient_stock.sold_out": _("%(name)s is out of stock."),
    "line_not_found": _("This product is not in your cart."),
    "not_in_wishlist": _("This product is not in your wishlist."),
    "alert_not_needed": _("%(name)s is in stock now: add it to your cart."),
    # Checkout, orders and payments.
    "empty_selection": _("Choose at least one item to check out."),
    "quantity_limit_exceeded": _(
        "One order can hold at most %(limit)s units of a product. "
        "Lower the quantity; nothing was reserved."
    ),
    "checkout_in_progress": _(
        "Another checkout of yours is holding items right now. Nothing was reserved; "
        "please try again in a moment."
    ),
    "checkout_replaced": _("A newer checkout of yours replaced this one; it holds your items now."),
    "order_not_found": _("We couldn't find that order."),
    "payment_unavailable": _(
        "The payment provider is not available right now. Nothing was charged; please try again."
    ),
    "delivery_zone_unknown": _("Choose one of the delivery areas shown."),
    "voucher_refused": _("That voucher cannot be used on this order."),
    "voucher_unknown": _(
        "That voucher code is not one of ours. Check it, or check out without it."
    ),
    "voucher_not_yet_valid": _("Voucher %(code)s can be used from %(starts_at)s."),
    "voucher_expired": _("Voucher %(code)s has expired."),
    "voucher_used_up": _("Voucher %(code)s has been used up."),
    "voucher_limit_per_shopper": _("You have already used voucher %(code)s as often as it allows."),
    "voucher_below_minimum": _("Voucher %(code)s needs items worth at least %(min_spend)s."),
    "cod_amount_limit_exceeded": _(
        "Cash on delivery is for orders up to %(limit)s. Please pay by card, or order less at once."
    ),
    "cod_amount_limit_exceeded.off": _(
        "Cash on delivery is not available right now. Please pay by card."
    ),
    "payment_method_unknown": _("Choose card or cash on delivery."),
    "total_changed": _(
        "The total is now %(total)s. Check it, then place the order again; nothing was reserved."
    ),
    "invalid_signature": _("Signature verification failed."),
    "malformed_event": _("The signed event could not be read (%(reason)s)."),
    # Accounts.
    "email_taken": _("An account with this e-mail already exists. Sign in instead."),
    "sign_up_link_invalid": _("This link no longer works: it was already used or has expired."),
    "sign_up_link_invalid.used": _("This link was already used. Sign in with your new account."),
}

# A checkout line's problem, shown beside the line on the review page.
LINE_MESSAGES: dict[str, Promise] = {
    "unavailable": _("%(name)s: you asked for %(quantity)s, it is no longer available."),
    "over_limit": _("%(name)s: you asked for %(quantity)s, one order can hold at most %(limit)s."),
    "short": _("%(name)s: you asked for %(quantity)s, only %(available)s left."),
}


def message(key: str, **values: Any) -> str:
    """The catalogue's message ``key`` in the active language, its placeholders filled."""
    return str(MESSAGES[key]) % values


# Plain HTTP answers (no domain rule), by status: their stable codes and messages under /api/
# (haat.api, haat.middleware, the OpenAPI document).
HTTP_ERRORS: dict[int, tuple[str, Promise]] = {
    status: (code, MESSAGES[key])
    for status, code, key in [
        (400, "invalid_request", "invalid_request"),
        (403, "forbidden", "forbidden"),
        (404, "not_found", "not_found"),
        (405, "method_not_allowed", "method_not_allowed"),
        (413, "payload_too_large", "payload_too_large"),
        (429, "rate_limited", "rate_limited.plain"),
        (500, "server_error", "server_error"),
        (503, "unavailable", "unavailable"),
    ]
}


class DomainError(Exception):
    """A business rule said no. Nothing was changed.

    Raise with details only (keyword arguments); ``message_key`` picks a variant of the code's
    message from the catalogue (``"<code>.<variant>"``)."""

    code = "domain_error"
    http_status = 400

    def __init__(self, *, message_key: str = "", **details: Any) -> None:
        key = message_key or self.code
        if key not in MESSAGES:
            raise KeyError(f"No message {key!r} in haat.errors.MESSAGES")
        self.message_key = key
        self.details = details
        super().__init__(key)

    def message_values(self) -> Mapping[str, Any]:
        """What fills the message's placeholders (the details, unless a refusal says otherwise)."""
        return self.details

    @property
    def message(self) -> str:
        return message(self.message_key, **self.message_values())

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only __init__: pickling (background workers, processes) restores the state.
        return (_restore, (type(self), dict(self.__dict__)))


def _restore(cls: type[DomainError], state: dict[str, Any]) -> DomainError:
    refusal = cls.__new__(cls)
    Exception.__init__(refusal, state.get("message_key", cls.code))
    refusal.__dict__.update(state)
    return refusal


@dataclass(frozen=True)
class ShortItem:
    """One product a refusal for stock is about: ``requested`` units were wanted in all (for a
    cart, what the line would hold), ``available`` are there."""

    product_id: int
    name: str
    requested: int
    available: int


class InsufficientStock(DomainError):
    """Not enough units. Always the same details: ``{"items": [ShortItem, ...]}`` as dicts,
    one per short product, whichever store, cart or checkout said no."""

    code = "insufficient_stock"
    http_status = 409

    def __init__(self, *, items: Iterable[ShortItem], message_key: str = "") -> None:
        """The message names the product when there is one (``message_key`` may choose the
        general one, e.g. for a checkout whose page lists each line)."""
        short = [asdict(item) for item in items]
        key = message_key or "insufficient_stock"
        if len(short) == 1 and not message_key:
            key = "insufficient_stock.sold_out" if short[0]["available"] <= 0 else key + ".one"
        super().__init__(message_key=key, items=short)

    @property
    def items(self) -> list[ShortItem]:
        return [ShortItem(**item) for item in self.details["items"]]

    def message_values(self) -> Mapping[str, Any]:
        items = self.details["items"]
        return items[0] if len(items) == 1 else {}


class ProductNotFound(DomainError):
    code = "product_not_found"
    http_status = 404


class ProductUnavailable(DomainError):
    code = "product_unavailable"
    http_status = 409


class InvalidInput(DomainError, BadRequest):
    """The request itself is malformed (not a rule about the shop's state). Being a
    ``BadRequest`` too, an HTML view that lets it through answers Django's 400 page.

    A field rule's own wording (``haat.validation.TextRule``, one per field) may be given as
    ``problem``; it is the message then."""

    code = "invalid_request"
    http_status = 400

    def __init__(self, *, problem: str = "", message_key: str = "", **details: Any) -> None:
        self.problem = problem
        super().__init__(message_key=message_key, **details)

    @property
    def message(self) -> str:
        return self.problem or super().message


class InvalidQuantity(InvalidInput):
    code = "invalid_quantity"


class NotInCart(DomainError):
    code = "line_not_found"
    http_status = 404


class NotInWishlist(DomainError):
    code = "not_in_wishlist"
    http_status = 404


class AlertNotNeeded(DomainError):
    """A back-in-stock alert for a product that is in stock."""

    code = "alert_not_needed"
    http_status = 409


class OrderNotFound(DomainError):
    code = "order_not_found"
    http_status = 404


class StoreBusy(DomainError):
    """Too many changes at once (a lock wait or a retry budget ran out): try again shortly.
    Nothing was changed. Answered 503 with ``Retry-After``."""

    code = "store_busy"
    http_status = 503
    retry_after_seconds = 2


class TotalTooLarge(InvalidInput):
    """An order whose total would not fit the database's bigint (``haat.validation.MAX_MONEY``)."""

    code = "total_too_large"


# --- Checkout refusals: delivery, vouchers, cash on delivery (their codes are the contract).
# Those whose message shows an amount of money are in checkout.selectors (money is formatted
# by catalog.money, above this package).


class DeliveryZoneUnknown(DomainError):
    """A delivery zone that is not (or no longer) one the shop delivers to (a well-formed id
    naming nothing, like ``ProductNotFound``)."""

    code = "delivery_zone_unknown"
    http_status = 404


class VoucherRefused(DomainError):
    """A voucher that cannot be used on this order; nothing was reserved or used."""

    code = "voucher_refused"
    http_status = 409


class VoucherUnknown(VoucherRefused):
    code = "voucher_unknown"


class VoucherNotYetValid(VoucherRefused):
    """Details: ``code`` and ``starts_at`` (ISO 8601); the message shows the local time."""

    code = "voucher_not_yet_valid"

    def message_values(self) -> Mapping[str, Any]:
        starts_at = parse_datetime(str(self.details.get("starts_at", "")))
        shown = date_format(timezone.localtime(starts_at), "j M Y, H:i") if starts_at else ""
        return {**self.details, "starts_at": shown}


class VoucherExpired(VoucherRefused):
    code = "voucher_expired"


class VoucherUsedUp(VoucherRefused):
    code = "voucher_used_up"


class VoucherLimitPerShopper(VoucherRefused):
    code = "voucher_limit_per_shopper"


class PaymentMethodUnknown(InvalidInput):
    code = "payment_method_unknown"
