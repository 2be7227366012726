"""Domain refusals. Each has a stable ``code``; views and the API map them to HTTP in one place."""

from __future__ import annotations

from typing import Any


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


class InvalidQuantity(DomainError):
    code = "invalid_quantity"
    http_status = 400


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
