"""/api/wishlist: list, toggle, remove."""

from __future__ import annotations

import pytest

from tests.api_helpers import assert_error, call

pytestmark = pytest.mark.django_db


def test_toggle_and_list(shopper_client, make_product):
    product = make_product(stock=0, price_minor=4500, name="Clay Pot")
    first = call(shopper_client, "POST", "/api/wishlist/toggle", {"product_id": product.pk})
    assert first.status_code == 200
    assert first.json()["in_wishlist"] is True and first.json()["count"] == 1
    listing = shopper_client.get("/api/wishlist").json()
    assert listing["count"] == 1
    item = listing["items"][0]
    assert item["name"] == "Clay Pot"
    assert item["price"] == {"amount": 4500, "currency": "BDT"}
    assert (item["available"], item["in_stock"], item["can_add_to_cart"]) == (True, False, False)
    assert item["availability"] == {
        "code": "out_of_stock",
        "message": "Out of stock",
        "stock": 0,
        "max_quantity": 0,
        "can_buy": False,
    }
    second = call(shopper_client, "POST", "/api/wishlist/toggle", {"product_id": product.pk})
    assert second.json()["in_wishlist"] is False and second.json()["count"] == 0


def test_toggle_unknown_product(shopper_client):
    response = call(shopper_client, "POST", "/api/wishlist/toggle", {"product_id": 999999})
    assert_error(response, 404, "product_not_found")


def test_deleted_product_is_flagged(shopper_client, make_product):
    product = make_product(name="Old Radio")
    call(shopper_client, "POST", "/api/wishlist/toggle", {"product_id": product.pk})
    product.delete()
    [item] = shopper_client.get("/api/wishlist").json()["items"]
    assert (item["name"], item["available"], item["price"]) == ("Old Radio", False, None)


def test_delete_item(shopper_client, make_product):
    product = make_product()
    call(shopper_client, "POST", "/api/wishlist/toggle", {"product_id": product.pk})
    assert shopper_client.delete(f"/api/wishlist/items/{product.pk}").json()["count"] == 0
    assert_error(shopper_client.delete(f"/api/wishlist/items/{product.pk}"), 404, "not_in_wishlist")


@pytest.mark.parametrize(
    "body", [{}, {"product_id": "1"}, {"product_id": -1}, {"product_id": 1, "x": 2}]
)
def test_toggle_bad_bodies(shopper_client, body):
    assert_error(call(shopper_client, "POST", "/api/wishlist/toggle", body), 400, "invalid_request")
