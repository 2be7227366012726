"""Domain refusals. Each has a stable ``code``; views and the API map them to HTTP in one place."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import BadRequest

# Answers that no domain rule gives (the request, not the shop, is the problem), by status:
# their stable codes and messages under /api/ (haat.api, haat.middleware, the OpenAPI document).
HTTP_ERRORS = {
    400: ("invalid_request", "The request could not be understood."),
    403: ("forbidden", "You may not do that."),
    404: ("not_found", "Nothing here."),
    405: ("method_not_allowed", "This address does not accept that method."),
    413: ("payload_too_large", "The request body is too large."),
    429: ("rate_limited", "Too many requests. Wait a moment and try again."),
    500: ("server_error", "Something went wrong on our side. Please try again."),
    503: ("unavailable", "The shop is busy. Please try again in a moment."),
}


class DomainError(Exception):
    """A business rule said no. Nothing was changed."""

    code = "domain_error"
    http_status = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class InsufficientStock(DomainError):
    code = "insufficient_stock"
    http_status = 409


class ProductNotFound(DomainError):
    code = "product_not_found"
    http_status = 404


class ProductUnavailable(DomainError):
    code = "product_unavailable"
    http_status = 409


class InvalidInput(DomainError, BadRequest):
    """The request itself is malformed (not a rule about the shop's state). Being a
    ``BadRequest`` too, an HTML view that lets it through answers Django's 400 page."""

    code = "invalid_request"
    http_status = 400


class InvalidQuantity(InvalidInput):
    code = "invalid_quantity"


class NotInCart(DomainError):
    code = "line_not_found"
    http_status = 404


class NotInWishlist(DomainError):
    code = "not_in_wishlist"
    http_status = 404


class OrderNotFound(DomainError):
    code = "order_not_found"
    http_status = 404


class StoreBusy(DomainError):
    """Too many changes at once (a lock wait or a retry budget ran out): try again shortly.
    Nothing was changed. Answered 503 with ``Retry-After``."""

    code = "store_busy"
    http_status = 503
    default_message = "Many people are changing this right now. Please try again in a moment."
    retry_after_seconds = 2

    def __init__(self, message: str = default_message, **details: Any) -> None:
        super().__init__(message, **details)


class TotalTooLarge(InvalidInput):
    """An order whose total would not fit the database's bigint (``haat.validation.MAX_MONEY``)."""

    code = "total_too_large"


# --- Checkout refusals: delivery, vouchers, cash on delivery (their codes are the contract) --


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
    code = "voucher_not_yet_valid"


class VoucherExpired(VoucherRefused):
    code = "voucher_expired"


class VoucherUsedUp(VoucherRefused):
    code = "voucher_used_up"


class VoucherLimitPerShopper(VoucherRefused):
    code = "voucher_limit_per_shopper"


class VoucherBelowMinimum(VoucherRefused):
    code = "voucher_below_minimum"


class CodAmountLimitExceeded(DomainError):
    """Cash on delivery is for orders up to ``COD_MAX_TOTAL_MINOR`` (or is turned off)."""

    code = "cod_amount_limit_exceeded"
    http_status = 409


class PaymentMethodUnknown(InvalidInput):
    code = "payment_method_unknown"
