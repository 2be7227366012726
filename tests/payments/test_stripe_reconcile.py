"""The expiry path with Stripe (the real SDK against the local stand-in): it asks Stripe before
cancelling, expires an open session first, and fulfils a session Stripe reports paid."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from checkout.models import Reservation
from checkout.services import checkout_start, reservations_release_expired
from orders.models import Order
from tests.checkout.conftest import URLS

pytestmark = pytest.mark.django_db


def expired_stripe_order(shopper, product) -> Order:
    order = checkout_start(user_id=shopper.pk, buy_now=(product.pk, 1), **URLS)
    Reservation.objects.filter(order=order).update(expires_at=timezone.now() - timedelta(minutes=1))
    return order


def calls(standin) -> list[tuple[str, str]]:
    return [
        (request["method"], request["path"].split("?")[0])
        for request in standin.requests
        if request["path"] != "/v1/checkout/sessions"
    ]


def test_an_open_session_is_expired_at_stripe_before_the_order_is_cancelled(
    stripe_standin, shopper, make_product
):
    order = expired_stripe_order(shopper, make_product(stock=3))
    assert reservations_release_expired() == 1
    session = f"/v1/checkout/sessions/{order.payment_session_id}"
    assert calls(stripe_standin) == [
        ("GET", session),
        ("POST", f"{session}/expire"),
        ("GET", session),
    ]
    assert stripe_standin.sessions[order.payment_session_id]["status"] == "expired"
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED and order.payment_session_closed_at


def test_a_session_stripe_reports_paid_is_fulfilled_not_cancelled(
    stripe_standin, shopper, make_product
):
    order = expired_stripe_order(shopper, make_product(stock=3))
    stripe_standin.pay(order.payment_session_id)  # paid; the webhook never came
    assert reservations_release_expired() == 1
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.payment_reference == f"pi_standin_{order.payment_session_id}"
    assert ("POST", f"/v1/checkout/sessions/{order.payment_session_id}/expire") not in calls(
        stripe_standin
    )


def test_while_stripe_is_unreachable_the_order_waits(
    stripe_standin, settings, shopper, make_product
):
    order = expired_stripe_order(shopper, make_product(stock=3))
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    assert reservations_release_expired() == 0
    assert Order.objects.get(pk=order.pk).status == Order.Status.PENDING
