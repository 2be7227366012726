"""Issue 12, finding 3: the test gateway, like Stripe, takes no payment on a session past its
``expires_at``: it expires the session, sends the expired event and tells the shopper."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Product
from orders.models import Order
from payments.models import EventOutcome, PaymentEvent, TestPaymentSession
from payments.services import pay_with_test_card
from tests.checkout.conftest import URLS

pytestmark = pytest.mark.django_db


def expired_order(shopper, product):
    from checkout.services import checkout_start

    order = checkout_start(user_id=shopper.pk, buy_now=(product.pk, 2), **URLS)
    # The reservation and the session run out together; no sweep has run yet.
    past = timezone.now() - timedelta(seconds=5)
    TestPaymentSession.objects.filter(order=order).update(expires_at=past)
    order.reservation.expires_at = past
    order.reservation.save(update_fields=["expires_at"])
    return order


def test_paying_after_the_session_expired_is_refused(shopper, make_product):
    product = make_product(stock=5)
    order = expired_order(shopper, product)

    paid, message = pay_with_test_card(
        session_id=order.payment_session_id, card_number="4242 4242 4242 4242"
    )

    assert not paid
    assert "expired" in message and "Nothing was charged" in message
    session = TestPaymentSession.objects.get(order=order)
    assert (session.status, session.payment_status, session.payment_reference) == (
        "expired",
        "unpaid",
        "",
    )
    assert list(PaymentEvent.objects.values_list("type", "outcome")) == [
        ("checkout.session.expired", EventOutcome.RELEASED)
    ]
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert Product.objects.get(pk=product.pk).stock == 5


def test_the_payment_page_tells_the_shopper(shopper, shopper_client, make_product):
    order = expired_order(shopper, make_product(stock=5))
    response = shopper_client.post(
        f"/payments/test/{order.payment_session_id}/",
        {"action": "pay", "card_number": "4242424242424242"},
        follow=True,
    )
    body = response.content.decode()
    # Said in the page (not a toast), with the way back to the cart.
    assert "This order expired before it was paid" in body
    assert 'href="/cart/"' in body and "Back to your cart" in body
    assert 'name="card_number"' not in body
    assert Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED


def test_a_session_within_its_time_still_pays(shopper, make_product):
    from checkout.services import checkout_start

    product = make_product(stock=5)
    order = checkout_start(user_id=shopper.pk, buy_now=(product.pk, 2), **URLS)
    TestPaymentSession.objects.filter(order=order).update(
        expires_at=timezone.now() + timedelta(seconds=30)
    )
    assert pay_with_test_card(session_id=order.payment_session_id, card_number="4242424242424242")[
        0
    ]
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
