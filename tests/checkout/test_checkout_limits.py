"""Checkouts the database could not record, and bad delivery details, are refused before anything
is written: no order, no reservation, no stock taken, and the shopper's earlier unpaid checkout
is still there."""

from __future__ import annotations

import pytest

from cart.services import cart_add_line
from catalog.models import Product, StockMovement
from checkout.selectors import checkout_preview
from haat.errors import TotalTooLarge
from haat.validation import MAX_MONEY
from orders.models import Order
from tests.api_helpers import assert_error, call

pytestmark = pytest.mark.django_db

DELIVERY = {
    "name": "Rina Akter",
    "phone": "01712345678",
    "address": "House 12, Road 5",
    "city": "Dhaka",
}


@pytest.fixture
def earlier(shopper, make_product, start):
    """An unpaid checkout of the shopper's, holding one unit."""
    return start(shopper, buy_now=(make_product(stock=3, price_minor=500).pk, 1))


def _unchanged(earlier: Order, *products: Product) -> None:
    assert list(Order.objects.values_list("pk", flat=True)) == [earlier.pk]
    assert Order.objects.get(pk=earlier.pk).status == Order.Status.PENDING
    assert StockMovement.objects.filter(reason="reservation").count() == 1
    for product in products:
        assert Product.objects.get(pk=product.pk).stock == product.stock


def test_the_largest_recordable_total_is_the_limit(shopper, make_product):
    # Twice 2**62 is one more than the largest bigint. (A JSON store such as Sanity keeps
    # prices as doubles, so it rounds 2**62 up a little: still over the limit when doubled.)
    product = make_product(stock=5, price_minor=2**62)
    assert checkout_preview(user_id=shopper.pk, buy_now=(product.pk, 1)).total_minor >= 2**62
    assert MAX_MONEY + 1 == 2 * 2**62
    with pytest.raises(TotalTooLarge):
        checkout_preview(user_id=shopper.pk, buy_now=(product.pk, 2))


def test_api_refuses_a_total_beyond_a_bigint(shopper_client, shopper, make_product, earlier):
    dear = make_product(stock=5, price_minor=2**62)
    response = call(
        shopper_client, "POST", "/api/checkout", {"buy_now": {"product_id": dear.pk, "quantity": 2}}
    )
    assert_error(response, 400, "total_too_large")
    cart_add_line(user_id=shopper.pk, product_id=dear.pk, quantity=2)
    response = call(shopper_client, "POST", "/api/checkout", {"product_ids": [dear.pk]})
    assert_error(response, 400, "total_too_large")
    _unchanged(earlier, dear)


def test_checkout_page_refuses_a_total_beyond_a_bigint(shopper_client, make_product, earlier):
    dear = make_product(stock=5, price_minor=2**62)
    review = shopper_client.get("/checkout/", {"buy_now": dear.pk, "quantity": 2})
    assert review.status_code == 400
    assert "more than the shop can take in one order" in review.content.decode()
    placed = shopper_client.post(
        "/checkout/start/", {"buy_now": dear.pk, "quantity": "2", **DELIVERY}
    )
    assert placed.status_code == 400
    _unchanged(earlier, dear)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Rina\x00"),
        ("address", "House\x00 12, Road 5"),
        ("city", "\x1b[2J"),
        ("phone", "0171\x002345678"),
    ],
)
def test_bad_delivery_details_leave_the_earlier_checkout_alone(
    shopper_client, make_product, earlier, field, value
):
    product = make_product(stock=5)
    delivery = {**DELIVERY, field: value}
    response = call(
        shopper_client,
        "POST",
        "/api/checkout",
        {"buy_now": {"product_id": product.pk, "quantity": 1}, "delivery": delivery},
    )
    payload = assert_error(response, 400, "invalid_request")
    assert payload["details"]["errors"][0]["field"] == f"delivery.{field}"
    page = shopper_client.post(
        "/checkout/start/", {"buy_now": product.pk, "quantity": "1", **delivery}
    )
    assert page.status_code == 400
    assert "control characters" in page.content.decode() or "mobile number" in page.content.decode()
    _unchanged(earlier, product)
