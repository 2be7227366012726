"""Webhook endpoints verify the signature on the raw body and change nothing when it fails."""

from __future__ import annotations

import json
import time

import pytest

from catalog.models import Product
from orders.models import Order
from payments.gateways.test import signed_event
from payments.models import PaymentEvent
from tests.checkout.conftest import URLS
from tests.payments.conftest import stripe_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending_order(shopper, make_product):
    from checkout.services import checkout_start

    product = make_product(stock=5)
    return checkout_start(user_id=shopper.pk, buy_now=(product.pk, 2), **URLS), product


def post(client, path, payload: bytes, header: str | None):
    headers = {"Stripe-Signature": header} if header is not None else {}
    return client.post(path, payload, content_type="application/json", headers=headers)


def completed(order) -> dict:
    return {
        "id": order.payment_session_id,
        "object": "checkout.session",
        "payment_status": "paid",
        "payment_intent": "pi_1",
        "amount_total": order.total_minor,
        "currency": order.currency.lower(),
        "metadata": {"order_id": str(order.pk)},
    }


def test_test_gateway_webhook_accepts_a_signed_event(client, pending_order):
    order, product = pending_order
    payload, header = signed_event("checkout.session.completed", completed(order))
    response = post(client, "/webhooks/test-gateway", payload, header)
    assert response.status_code == 200
    assert response.json()["outcome"] == "fulfilled"
    assert Product.objects.get(pk=product.pk).stock == 3


@pytest.mark.parametrize(
    "case", ["unsigned", "garbage", "tampered", "wrong_secret", "stale", "no_v1"]
)
def test_bad_signatures_are_rejected_and_change_nothing(client, settings, pending_order, case):
    order, product = pending_order
    payload, signed = signed_event("checkout.session.completed", completed(order))
    header: str | None = signed
    if case == "unsigned":
        header = None
    elif case == "garbage":
        header = "not a signature"
    elif case == "tampered":
        tampered = json.loads(payload)
        tampered["data"]["object"]["metadata"]["order_id"] = "424242"
        payload = json.dumps(tampered).encode()
    elif case == "wrong_secret":
        payload, header = stripe_event(
            "checkout.session.completed", completed(order), secret="whsec_other"
        )
    elif case == "stale":
        payload, header = stripe_event(
            "checkout.session.completed",
            completed(order),
            secret=settings.TEST_GATEWAY_WEBHOOK_SECRET,
            timestamp=int(time.time()) - 3600,
        )
    elif case == "no_v1":
        header = signed.split(",")[0]
    response = post(client, "/webhooks/test-gateway", payload, header)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert Product.objects.get(pk=product.pk).stock == 3  # still only reserved
    assert PaymentEvent.objects.count() == 0


def test_reserialised_json_fails_verification(client, pending_order):
    order, _ = pending_order
    payload, header = signed_event("checkout.session.completed", completed(order))
    reserialised = json.dumps(json.loads(payload), indent=2).encode()
    assert post(client, "/webhooks/test-gateway", reserialised, header).status_code == 400


def test_webhooks_need_post(client, db):
    assert client.get("/webhooks/test-gateway").status_code == 405


def test_stripe_webhook_is_verified_with_the_stripe_secret(client, stripe_standin, pending_order):
    order, _ = pending_order
    payload, header = stripe_event("checkout.session.completed", completed(order))
    assert post(client, "/webhooks/stripe", payload, header).status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    # An event signed for the test gateway is not accepted as a Stripe event.
    other, other_header = signed_event("checkout.session.completed", completed(order))
    assert post(client, "/webhooks/stripe", other, other_header).status_code == 400


def test_stripe_webhook_is_off_without_stripe(client, db, settings):
    settings.PAYMENT_GATEWAY = "test"
    settings.STRIPE_WEBHOOK_SECRET = ""
    payload, header = stripe_event("checkout.session.completed", {"metadata": {}})
    assert post(client, "/webhooks/stripe", payload, header).status_code == 404
