"""Availability is decided once (catalog/availability.py): the catalogue, cart, wishlist and
checkout read the same object, the API hands it out, and the page script decides nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils.functional import Promise

from cart.selectors import cart_get
from cart.services import cart_add_line
from catalog.availability import (
    IN_STOCK,
    LOW_STOCK,
    MESSAGES,
    OUT_OF_STOCK,
    UNAVAILABLE,
    availability_code,
    availability_of,
)
from checkout.selectors import checkout_preview
from tests.api_helpers import assert_error
from wishlist.selectors import wishlist_get
from wishlist.services import wishlist_toggle

SCRIPT = Path(__file__).resolve().parents[2] / "static" / "haat" / "js" / "haat.js"


@pytest.mark.parametrize(
    ("stock", "threshold", "code", "message"),
    [
        (8, 10, LOW_STOCK, "Only 8 left"),
        (10, 10, LOW_STOCK, "Only 10 left"),
        (11, 10, IN_STOCK, "In stock"),
        (8, 5, IN_STOCK, "In stock"),
        (1, 5, LOW_STOCK, "Only 1 left"),
        (0, 5, OUT_OF_STOCK, "Out of stock"),
        (-3, 5, OUT_OF_STOCK, "Out of stock"),
    ],
)
def test_code_and_message_follow_stock_and_the_threshold(settings, stock, threshold, code, message):
    settings.LOW_STOCK_THRESHOLD = threshold
    result = availability_of(stock=stock)
    assert (result.code, str(result.message)) == (code, message)
    assert result.stock == result.max_quantity == max(0, stock)
    assert result.can_buy is (stock > 0)
    assert result.is_low is (code == LOW_STOCK)


def test_a_product_off_sale_is_unavailable_whatever_its_stock():
    result = availability_of(stock=40, is_published=False)
    assert (result.code, str(result.message)) == (UNAVAILABLE, "No longer available")
    assert (result.stock, result.max_quantity, result.can_buy) == (0, 0, False)
    assert result.short_by(3) == 3


def test_limits_for_a_shopper_with_some_in_the_cart():
    result = availability_of(stock=6)
    assert [result.addable(in_cart) for in_cart in (0, 4, 6, 9)] == [6, 2, 0, 0]
    assert [result.short_by(quantity) for quantity in (1, 6, 7)] == [0, 0, 1]


def test_messages_are_translatable_and_written_once():
    assert set(MESSAGES) == {IN_STOCK, LOW_STOCK, OUT_OF_STOCK, UNAVAILABLE}
    assert all(isinstance(message, Promise) for message in MESSAGES.values())
    assert isinstance(availability_of(stock=2).message, Promise)  # translated when rendered


def test_the_object_is_frozen_and_serialises_for_the_page(settings):
    settings.LOW_STOCK_THRESHOLD = 10
    result = availability_of(stock=8)
    with pytest.raises(AttributeError):
        result.code = IN_STOCK  # type: ignore[misc]
    assert result.as_data() == {
        "code": "low_stock",
        "message": "Only 8 left",
        "stock": 8,
        "max_quantity": 8,
        "can_buy": True,
    }


@pytest.mark.django_db
def test_cart_wishlist_and_checkout_read_the_same_availability(settings, shopper, make_product):
    settings.LOW_STOCK_THRESHOLD = 10
    kettle = make_product(stock=8)
    cart_add_line(user_id=shopper.pk, product_id=kettle.pk, quantity=2)
    wishlist_toggle(user_id=shopper.pk, product_id=kettle.pk)
    expected = availability_of(stock=8)
    [line] = cart_get(user_id=shopper.pk).lines
    [item] = wishlist_get(user_id=shopper.pk).items
    [checkout_item] = checkout_preview(user_id=shopper.pk, product_ids=[kettle.pk]).items
    assert line.availability == item.availability == checkout_item.availability == expected
    assert (line.max_quantity, item.can_add_to_cart, checkout_item.available) == (8, True, 8)


@pytest.mark.django_db
def test_the_api_answers_a_products_availability(settings, shopper_client, make_product):
    settings.LOW_STOCK_THRESHOLD = 10
    kettle = make_product(stock=8)
    hidden = make_product(stock=5, is_published=False)
    answer = shopper_client.get(f"/api/products/{kettle.pk}/availability")
    assert answer.status_code == 200
    assert answer.json() == availability_of(stock=8).as_data()
    assert shopper_client.get(f"/api/products/{hidden.pk}/availability").json()["code"] == (
        UNAVAILABLE
    )
    assert_error(shopper_client.get("/api/products/999999/availability"), 404, "product_not_found")


@pytest.mark.django_db
def test_the_api_serves_signed_in_shoppers_only(client, make_product):
    kettle = make_product(stock=8)
    assert_error(client.get(f"/api/products/{kettle.pk}/availability"), 401, "not_authenticated")


def test_the_page_script_has_no_stock_rule_of_its_own():
    """The script compares quantities with 0 and 1 only (nothing / one unit); any other number
    would be a threshold, and the availability messages come from the server."""
    script = SCRIPT.read_text()
    assert re.findall(r"[<>]=?\s*(?:[2-9]|[1-9][0-9]+)\b", script) == []
    for fixed in ('"In stock"', '"Out of stock"', '"No longer available"', '" left"'):
        assert fixed not in script
    assert "availability.message" in script  # what it shows instead


@pytest.mark.parametrize("threshold", [0, 3])
@pytest.mark.parametrize("stock", [-2, 0, 1, 3, 4, 50])
@pytest.mark.parametrize("is_published", [True, False])
def test_availability_code_is_the_code_of_availability_of(settings, threshold, stock, is_published):
    settings.LOW_STOCK_THRESHOLD = threshold
    assert availability_code(stock=stock, is_published=is_published) == (
        availability_of(stock=stock, is_published=is_published).code
    )
