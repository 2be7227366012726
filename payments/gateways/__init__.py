"""Payment gateways behind one small interface; ``get_gateway()`` picks the configured one."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from payments.gateways.base import (
    GatewayError,
    InvalidSignature,
    MalformedEvent,
    PaymentEventData,
    PaymentGateway,
    PaymentSession,
    SessionState,
)

__all__ = [
    "GatewayError",
    "InvalidSignature",
    "MalformedEvent",
    "PaymentEventData",
    "PaymentGateway",
    "PaymentSession",
    "SessionState",
    "get_gateway",
]


def get_gateway(name: str | None = None) -> PaymentGateway:
    name = name or settings.PAYMENT_GATEWAY
    if name == "test":
        from payments.gateways.test import TestGateway

        return TestGateway()
    if name == "stripe":
        from payments.gateways.stripe import StripeGateway

        return StripeGateway()
    raise ImproperlyConfigured(f"Unknown PAYMENT_GATEWAY {name!r}; use 'test' or 'stripe'.")
