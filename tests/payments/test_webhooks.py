"""Webhook endpoints verify the signature on the raw body and change nothing when it fails."""

from __future__ import annotations

import json
import time

import pytest
import stripe

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


def signed_raw(settings, body: bytes) -> str:
    return stripe.WebhookSignature.generate_signature_header(
        body.decode(), settings.TEST_GATEWAY_WEBHOOK_SECRET
    )


def event_body(order, changes: dict | None = None) -> dict:
    """A well-formed paid event for ``order``, with ``changes`` applied: each key is a dotted
    path into the event; a value of None removes that part."""
    event: dict = {
        "id": "evt_malformed_case",
        "type": "checkout.session.completed",
        "data": {"object": completed(order)},
    }
    for path, value in (changes or {}).items():
        *parents, field = path.split(".")
        target = event
        for part in parents:
            target = target[part]
        if value is None:
            target.pop(field, None)
        else:
            target[field] = value
    return event


MALFORMED = {
    "not json": b"{not json",
    "a list": b"[]",
    "a string": b'"checkout.session.completed"',
    "a number": b"42",
    "null": b"null",
}
MALFORMED_CHANGES: dict[str, dict[str, object]] = {
    "no id": {"id": None},
    "empty id": {"id": ""},
    "numeric id": {"id": 123},
    "no type": {"type": None},
    "numeric type": {"type": 7},
    "odd type": {"type": "checkout session completed"},
    "no data": {"data": None},
    "data a list": {"data": []},
    "object missing": {"data.object": None},
    "object a string": {"data.object": "cs_1"},
    "metadata a list": {"data.object.metadata": ["order_id"]},
    "metadata a string": {"data.object.metadata": "order 5"},
    "order id not a number": {"data.object.metadata.order_id": "12abc"},
    "order id in other digits": {"data.object.metadata.order_id": "²"},
    "order id an int": {"data.object.metadata.order_id": 12},
    "order id empty": {"data.object.metadata.order_id": ""},
    "amount a string": {"data.object.amount_total": "558900"},
    "amount a boolean": {"data.object.amount_total": True},
    "amount negative": {"data.object.amount_total": -1},
    "currency a number": {"data.object.currency": 50},
    "no session id": {"data.object.id": None},
    "session id a number": {"data.object.id": 5},
}


@pytest.mark.parametrize(
    "case", [*MALFORMED, *MALFORMED_CHANGES], ids=[*MALFORMED, *MALFORMED_CHANGES]
)
def test_malformed_signed_events_are_400_and_change_nothing(client, settings, pending_order, case):
    order, product = pending_order
    if case in MALFORMED:
        body = MALFORMED[case]
    else:
        body = json.dumps(event_body(order, MALFORMED_CHANGES[case])).encode()
    response = post(client, "/webhooks/test-gateway", body, signed_raw(settings, body))
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "malformed_event"
    assert response.json()["message"]
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert Product.objects.get(pk=product.pk).stock == 3
    assert PaymentEvent.objects.count() == 0


def test_the_well_formed_case_of_those_events_is_applied(client, settings, pending_order):
    """The control for the cases above: the same builder, unchanged, pays the order."""
    order, _ = pending_order
    body = json.dumps(event_body(order)).encode()
    response = post(client, "/webhooks/test-gateway", body, signed_raw(settings, body))
    assert response.json()["outcome"] == "fulfilled"
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_events_without_an_id_are_not_taken_as_one_event(client, settings, pending_order):
    order, _ = pending_order
    expired = event_body(order, {"id": None, "type": "checkout.session.expired"})
    paid = event_body(order, {"id": None})
    for event in (paid, expired):
        body = json.dumps(event).encode()
        response = post(client, "/webhooks/test-gateway", body, signed_raw(settings, body))
        assert response.status_code == 400
        assert response.json()["code"] == "malformed_event"
    assert PaymentEvent.objects.count() == 0
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
