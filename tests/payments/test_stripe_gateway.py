"""Stripe Checkout through the real ``stripe`` SDK, against a local stand-in for Stripe's API."""

from __future__ import annotations

import os

import pytest

from cart.selectors import cart_contents
from cart.services import cart_add_line
from catalog.models import Product
from checkout.services import checkout_confirm, checkout_start
from orders.models import Order
from payments.gateways import GatewayError
from payments.services import webhook_receive
from tests.checkout.conftest import URLS
from tests.payments.conftest import stripe_event

pytestmark = pytest.mark.django_db


def test_session_is_created_with_database_amounts_metadata_expiry_and_idempotency_key(
    stripe_standin, shopper, make_product
):
    kettle = make_product(stock=5, price_minor=150000, name="Steel Kettle")
    mug = make_product(stock=5, price_minor=35000, name="Blue Mug")
    cart_add_line(user_id=shopper.pk, product_id=kettle.pk, quantity=2)
    cart_add_line(user_id=shopper.pk, product_id=mug.pk, quantity=1)
    order = checkout_start(user_id=shopper.pk, product_ids=[kettle.pk, mug.pk], **URLS)
    [request] = [r for r in stripe_standin.requests if r["path"] == "/v1/checkout/sessions"]
    form = request["form"]
    assert request["idempotency_key"] == f"haat-order-{order.pk}-session"
    assert form["mode"] == "payment"
    assert form["line_items[0][price_data][unit_amount]"] == "150000"
    assert form["line_items[0][price_data][currency]"] == "bdt"
    assert form["line_items[0][price_data][product_data][name]"] == "Steel Kettle"
    assert form["line_items[0][quantity]"] == "2"
    assert form["line_items[1][price_data][unit_amount]"] == "35000"
    assert form["metadata[order_id]"] == str(order.pk)
    assert form["payment_intent_data[metadata][order_id]"] == str(order.pk)
    assert int(form["expires_at"]) == int(order.reservation.expires_at.timestamp())
    assert form["success_url"].startswith(f"http://testserver/checkout/success/?order={order.pk}")
    assert "{CHECKOUT_SESSION_ID}" in form["success_url"]
    assert form["customer_email"] == shopper.email
    assert request["headers"]["Authorization"] == "Bearer sk_test_local_standin"
    assert order.payment_url.startswith("https://checkout.stripe.test/pay/")


def test_provider_error_releases_the_reservation(stripe_standin, shopper, make_product):
    product = make_product(stock=3)
    stripe_standin.fail_next = {
        "status": 400,
        "error": {"type": "invalid_request_error", "message": "bad", "param": "expires_at"},
    }
    with pytest.raises(GatewayError) as refusal:
        checkout_start(user_id=shopper.pk, buy_now=(product.pk, 2), **URLS)
    assert refusal.value.code == "payment_unavailable"
    assert refusal.value.details["reason"] == "Creating the checkout session failed."
    assert Product.objects.get(pk=product.pk).stock == 3
    assert Order.objects.get().status == Order.Status.CANCELLED


def test_unreachable_provider_releases_the_reservation(settings, shopper, make_product):
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_x"
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    product = make_product(stock=3)
    with pytest.raises(GatewayError):
        checkout_start(user_id=shopper.pk, buy_now=(product.pk, 1), **URLS)
    assert Product.objects.get(pk=product.pk).stock == 3


def test_success_page_looks_the_session_up(stripe_standin, shopper, make_product):
    product = make_product(stock=5)
    cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=2)
    order = checkout_start(user_id=shopper.pk, product_ids=[product.pk], **URLS)
    assert checkout_confirm(order=order).status == Order.Status.PENDING  # not paid yet
    stripe_standin.pay(order.payment_session_id)
    order = checkout_confirm(order=order)
    assert order.status == Order.Status.PAID
    assert order.payment_reference == f"pi_standin_{order.payment_session_id}"
    assert Product.objects.get(pk=product.pk).stock == 3
    assert cart_contents(user_id=shopper.pk).lines == {}


def test_late_payment_without_stock_is_refunded_through_stripe(
    stripe_standin, make_user, make_product
):
    from datetime import timedelta

    from django.utils import timezone

    from checkout.models import Reservation
    from checkout.services import reservations_release_expired

    late, early = make_user(), make_user()
    product = make_product(stock=1)
    order = checkout_start(user_id=late.pk, buy_now=(product.pk, 1), **URLS)
    Reservation.objects.filter(order=order).update(expires_at=timezone.now() - timedelta(seconds=1))
    reservations_release_expired()
    checkout_start(user_id=early.pk, buy_now=(product.pk, 1), **URLS)
    session = stripe_standin.pay(order.payment_session_id)
    payload, header = stripe_event("checkout.session.completed", session)
    webhook_receive(gateway_name="stripe", payload=payload, signature=header)
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    [refund] = [r for r in stripe_standin.requests if r["path"] == "/v1/refunds"]
    assert refund["form"] == {"payment_intent": session["payment_intent"]}
    assert refund["idempotency_key"] == f"haat-order-{order.pk}-refund"
    assert order.refund_reference.startswith("re_standin_")


@pytest.mark.skipif(
    not os.environ.get("STRIPE_SECRET_KEY", "").startswith("sk_test_"),
    reason="live Stripe test skipped: set STRIPE_SECRET_KEY to a Stripe test-mode key to run it",
)
def test_live_stripe_creates_a_real_test_mode_session(settings, shopper, make_product):
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = os.environ["STRIPE_SECRET_KEY"]
    settings.STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_unused")
    settings.STRIPE_API_BASE = ""
    settings.CHECKOUT_RESERVATION_MINUTES = 31
    product = make_product(stock=2, price_minor=50000)
    order = checkout_start(user_id=shopper.pk, buy_now=(product.pk, 1), **URLS)
    assert order.payment_url.startswith("https://checkout.stripe.com/")


def test_a_stripe_decline_leaves_the_session_open_and_the_order_waiting(
    stripe_standin, shopper, make_product
):
    """Stripe Checkout keeps its session open after a declined card (it sends
    ``checkout.session.expired`` only at the session's expiry): the order keeps waiting, its
    stock held, and the next card pays it (before: the decline cancelled it)."""
    from checkout.models import Reservation
    from payments.models import EventOutcome

    product = make_product(stock=5)
    order = checkout_start(user_id=shopper.pk, buy_now=(product.pk, 2), **URLS)
    failed = {
        "id": "pi_standin_declined",
        "object": "payment_intent",
        "amount": order.total_minor,
        "currency": "bdt",
        "status": "requires_payment_method",
        "last_payment_error": {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": "insufficient_funds",
            "message": "Your card has insufficient funds.",
        },
        "metadata": {"order_id": str(order.pk)},
    }
    payload, header = stripe_event("payment_intent.payment_failed", failed)
    assert webhook_receive(gateway_name="stripe", payload=payload, signature=header) == (
        EventOutcome.DECLINED
    )
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING and order.payable
    assert Reservation.objects.get(order=order).status == Reservation.Status.ACTIVE
    assert Product.objects.get(pk=product.pk).stock == 3
    assert not [r for r in stripe_standin.requests if r["path"].endswith("/expire")]
    event = order.events.get(reason="payment_declined")
    assert event.data["decline_code"] == "insufficient_funds"
    assert event.data["payment_intent"] == "pi_standin_declined"

    session = stripe_standin.pay(order.payment_session_id)
    payload, header = stripe_event("checkout.session.completed", session)
    webhook_receive(gateway_name="stripe", payload=payload, signature=header)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert Product.objects.get(pk=product.pk).stock == 3
