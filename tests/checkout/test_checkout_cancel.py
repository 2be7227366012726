"""Leaving the payment page: the "back" link (a GET, which any site can trigger) changes
nothing and asks; only a POST with the CSRF token cancels and puts the units back."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from cart.services import cart_add_line
from catalog.models import Product, StockMovement
from orders.models import Order
from payments.models import TestPaymentSession

pytestmark = pytest.mark.django_db


def stock(product) -> int:
    return Product.objects.get(pk=product.pk).stock


def csrf_token(page) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert match, "the page has no CSRF token"
    return match.group(1)


@pytest.fixture
def strict_client(shopper):
    """A browser session whose requests must prove they come from Haat's own pages."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(shopper)
    return client


@pytest.fixture
def pending(start, shopper, make_product):
    product = make_product(stock=5, name="Clay Pot")
    return start(shopper, buy_now=(product.pk, 2)), product


def test_the_back_link_changes_nothing_and_offers_both_choices(strict_client, pending):
    order, product = pending
    ledger = StockMovement.objects.count()
    page = strict_client.get(f"/checkout/cancel/?order={order.pk}")
    assert page.status_code == 200
    body = page.content.decode()
    assert order.number in body and "2 × Clay Pot" in body
    assert f'href="{order.payment_url}">Return to payment</a>' in body
    assert '<form method="post" action="/checkout/cancel/">' in body
    assert f'name="order" value="{order.pk}"' in body
    assert "Cancel the order</button>" in body
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert stock(product) == 3
    assert StockMovement.objects.count() == ledger
    assert TestPaymentSession.objects.get(order=order).status == "open"


def test_a_cross_site_post_without_the_token_is_refused(strict_client, pending):
    order, product = pending
    response = strict_client.post("/checkout/cancel/", {"order": order.pk})
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert stock(product) == 3


def test_cancelling_from_the_page_releases_and_returns_to_the_product(strict_client, pending):
    order, product = pending
    page = strict_client.get(f"/checkout/cancel/?order={order.pk}")
    response = strict_client.post(
        "/checkout/cancel/", {"order": order.pk, "csrfmiddlewaretoken": csrf_token(page)}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == product.get_absolute_url()
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert stock(product) == 5
    assert TestPaymentSession.objects.get(order=order).status == "expired"
    # The back link of a cancelled order only says so.
    again = strict_client.get(f"/checkout/cancel/?order={order.pk}", follow=True)
    assert "is cancelled. Nothing was charged." in again.content.decode()


def test_a_cart_checkout_returns_to_the_cart(start, shopper, strict_client, make_product):
    product = make_product(stock=5)
    cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=1)
    order = start(shopper, product_ids=[product.pk])
    page = strict_client.get(f"/checkout/cancel/?order={order.pk}")
    response = strict_client.post(
        "/checkout/cancel/", {"order": order.pk, "csrfmiddlewaretoken": csrf_token(page)}
    )
    assert response.headers["Location"] == "/cart/"
    assert stock(product) == 5


def test_someone_elses_order_is_left_alone(make_user, pending):
    order, product = pending
    stranger = Client()
    stranger.force_login(make_user())
    assert stranger.get(f"/checkout/cancel/?order={order.pk}").headers["Location"] == "/cart/"
    assert stranger.post("/checkout/cancel/", {"order": order.pk}).status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert stock(product) == 3


def test_a_paid_order_is_not_cancelled(strict_client, pending):
    from payments.services import pay_with_test_card

    order, product = pending
    pay_with_test_card(session_id=order.payment_session_id, card_number="4242424242424242")
    response = strict_client.get(f"/checkout/cancel/?order={order.pk}")
    assert response.headers["Location"] == order.get_absolute_url()
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert stock(product) == 3
