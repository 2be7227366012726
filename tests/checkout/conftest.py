from __future__ import annotations

from typing import Any

import pytest

from checkout.services import checkout_start

URLS: dict[str, Any] = {
    "success_url": "http://testserver/checkout/success/?order={ORDER_ID}&session_id={CHECKOUT_SESSION_ID}",
    "cancel_url": "http://testserver/checkout/cancel/?order={ORDER_ID}",
}


@pytest.fixture
def start():
    def run(user, **selection):
        return checkout_start(user_id=user.pk, **URLS, **selection)

    return run
