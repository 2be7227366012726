from __future__ import annotations

import json
import time

import pytest
import stripe

from tests.payments.stripe_standin import StripeStandIn

WEBHOOK_SECRET = "whsec_test_haat_local_secret"


@pytest.fixture
def stripe_standin(settings):
    with StripeStandIn() as standin:
        settings.PAYMENT_GATEWAY = "stripe"
        settings.STRIPE_SECRET_KEY = "sk_test_local_standin"
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.STRIPE_API_BASE = standin.url
        settings.STRIPE_MAX_NETWORK_RETRIES = 0
        settings.CHECKOUT_RESERVATION_MINUTES = 30
        yield standin


def stripe_event(
    event_type: str,
    obj: dict,
    *,
    event_id: str | None = None,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
) -> tuple[bytes, str]:
    event = {
        "id": event_id or f"evt_{time.time_ns()}",
        "object": "event",
        "type": event_type,
        "data": {"object": obj},
    }
    payload = json.dumps(event).encode()
    header = stripe.WebhookSignature.generate_signature_header(
        payload.decode(), secret, timestamp=timestamp or int(time.time())
    )
    return payload, header
