"""Deploy checks for payments: a production shop must not take test payments."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register


@register(Tags.security, deploy=True)
def check_no_test_payments_in_production(**kwargs: Any) -> list[CheckMessage]:
    if not (settings.PRODUCTION and settings.PAYMENT_GATEWAY == "test"):
        return []
    return [
        Error(
            "The test payment gateway is on in production (ALLOW_TEST_PAYMENTS_IN_PRODUCTION=true): "
            "anyone can pay for real orders with the public test card 4242 4242 4242 4242.",
            hint="Set PAYMENT_GATEWAY=stripe with STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET, "
            "and unset ALLOW_TEST_PAYMENTS_IN_PRODUCTION. Only a staging shop may keep it "
            "(and silence haat.E001 on purpose).",
            id="haat.E001",
        )
    ]
