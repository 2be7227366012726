"""One order holds at most CHECKOUT_MAX_UNITS_PER_PRODUCT units of a product (default 50):
more is refused, itemised, with its own code, on the review page and in the API, and nothing
is reserved."""

from __future__ import annotations

import pytest

from cart.services import cart_add_line
from catalog.models import Product
from checkout.selectors import QuantityLimitExceeded
from orders.models import Order
from tests.api_helpers import assert_error, call
from tests.manage_process import manage

pytestmark = pytest.mark.django_db

DELIVERY = {
    "name": "Rina Akter",
    "phone": "01712345678",
    "address": "House 12, Road 5, Dhanmondi",
    "city": "Dhaka",
}


def stock(product) -> int:
    return Product.objects.get(pk=product.pk).stock


def test_the_default_limit_is_fifty(settings):
    assert settings.CHECKOUT_MAX_UNITS_PER_PRODUCT == 50


def test_more_than_the_limit_is_refused_and_nothing_is_reserved(start, shopper, make_product):
    product = make_product(stock=200, name="Rice 5 kg")
    with pytest.raises(QuantityLimitExceeded) as refusal:
        start(shopper, buy_now=(product.pk, 51))
    assert refusal.value.code == "quantity_limit_exceeded"
    assert refusal.value.details["items"] == [
        {"product_id": product.pk, "name": "Rice 5 kg", "requested": 51, "limit": 50}
    ]
    assert Order.objects.count() == 0
    assert stock(product) == 200
    assert start(shopper, buy_now=(product.pk, 50)).status == Order.Status.PENDING
    assert stock(product) == 150


def test_the_limit_is_a_setting_and_applies_to_cart_lines(start, settings, shopper, make_product):
    settings.CHECKOUT_MAX_UNITS_PER_PRODUCT = 2
    within, over = make_product(stock=9, name="Within"), make_product(stock=9, name="Over")
    cart_add_line(user_id=shopper.pk, product_id=within.pk, quantity=2)
    cart_add_line(user_id=shopper.pk, product_id=over.pk, quantity=3)
    with pytest.raises(QuantityLimitExceeded) as refusal:
        start(shopper, product_ids=[within.pk, over.pk])
    assert refusal.value.details["items"] == [
        {"product_id": over.pk, "name": "Over", "requested": 3, "limit": 2}
    ]
    assert (stock(within), stock(over)) == (9, 9)


def test_the_api_answers_409_with_each_line_and_its_limit(shopper_client, make_product):
    product = make_product(stock=100)
    response = call(
        shopper_client,
        "POST",
        "/api/checkout",
        {"buy_now": {"product_id": product.pk, "quantity": 60}},
    )
    payload = assert_error(response, 409, "quantity_limit_exceeded")
    assert payload["details"]["items"] == [
        {"product_id": product.pk, "name": product.name, "requested": 60, "limit": 50}
    ]
    assert Order.objects.count() == 0
    assert stock(product) == 100


def test_the_review_page_shows_the_limit_and_placing_is_refused(shopper_client, make_product):
    product = make_product(stock=100, name="Bulk Soap")
    page = shopper_client.get("/checkout/", {"buy_now": product.pk, "quantity": 60})
    body = page.content.decode()
    assert "Bulk Soap: you asked for 60, one order can hold at most 50." in body
    assert "disabled>Continue to payment" in body
    placed = shopper_client.post(
        "/checkout/start/", {"buy_now": product.pk, "quantity": "60", **DELIVERY}
    )
    assert placed.status_code == 200
    assert "at most 50 units of a product" in placed.content.decode()
    assert Order.objects.count() == 0
    assert stock(product) == 100


def test_a_limit_below_one_is_a_clear_start_up_error(tmp_path):
    result = manage("check", CHECKOUT_MAX_UNITS_PER_PRODUCT="0", HAAT_DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "CHECKOUT_MAX_UNITS_PER_PRODUCT must be at least 1" in result.stderr
