"""The JSON API of Save for later, Move to Cart, back-in-stock alerts and price drops."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cart.selectors import cart_contents
from cart.services import cart_add_line
from catalog.models import Product
from tests.api_helpers import assert_error, call
from wishlist.selectors import wishlist_contents
from wishlist.services import wishlist_alert_set, wishlist_toggle

pytestmark = pytest.mark.django_db


def test_save_for_later_answers_the_cart_and_the_wishlist(shopper_client, shopper, make_product):
    stays, later = make_product(stock=4), make_product(stock=4)
    cart_add_line(user_id=shopper.pk, product_id=stays.pk, quantity=1)
    cart_add_line(user_id=shopper.pk, product_id=later.pk, quantity=2)
    response = call(shopper_client, "POST", "/api/wishlist/from-cart", {"product_id": later.pk})
    assert response.status_code == 200
    data = response.json()
    assert [line["product_id"] for line in data["cart"]["lines"]] == [stays.pk]
    assert data["cart"]["count"] == 1
    assert data["wishlist"]["product_ids"] == [later.pk]
    assert data["wishlist"]["count"] == 1
    assert data["wishlist"]["version"] == wishlist_contents(user_id=shopper.pk).version
    assert cart_contents(user_id=shopper.pk).lines == {stays.pk: 1}


def test_save_for_later_refusals(shopper_client, shopper, make_product):
    withdrawn, absent = make_product(), make_product()
    cart_add_line(user_id=shopper.pk, product_id=withdrawn.pk, quantity=1)
    Product.objects.filter(pk=withdrawn.pk).update(is_published=False)
    refused = call(shopper_client, "POST", "/api/wishlist/from-cart", {"product_id": withdrawn.pk})
    assert_error(refused, 409, "product_unavailable")
    missing = call(shopper_client, "POST", "/api/wishlist/from-cart", {"product_id": absent.pk})
    assert_error(missing, 404, "line_not_found")
    bad = call(shopper_client, "POST", "/api/wishlist/from-cart", {"product_id": "1"})
    assert_error(bad, 400, "invalid_request")
    assert cart_contents(user_id=shopper.pk).lines == {withdrawn.pk: 1}


def test_move_to_cart(shopper_client, shopper, make_product):
    product = make_product(stock=3)
    wishlist_toggle(user_id=shopper.pk, product_id=product.pk)
    response = call(shopper_client, "POST", f"/api/wishlist/items/{product.pk}/move-to-cart")
    assert response.status_code == 200
    data = response.json()
    assert [(line["product_id"], line["quantity"]) for line in data["cart"]["lines"]] == [
        (product.pk, 1)
    ]
    assert data["wishlist"] == {
        "product_ids": [],
        "count": 0,
        "version": wishlist_contents(user_id=shopper.pk).version,
    }
    again = call(shopper_client, "POST", f"/api/wishlist/items/{product.pk}/move-to-cart")
    assert_error(again, 404, "not_in_wishlist")


def test_move_to_cart_out_of_stock(shopper_client, shopper, make_product):
    product = make_product(stock=0, name="Rice Cooker")
    wishlist_toggle(user_id=shopper.pk, product_id=product.pk)
    response = call(shopper_client, "POST", f"/api/wishlist/items/{product.pk}/move-to-cart")
    body = assert_error(response, 409, "insufficient_stock")
    assert body["details"]["items"] == [
        {"product_id": product.pk, "name": "Rice Cooker", "requested": 1, "available": 0}
    ]
    assert wishlist_contents(user_id=shopper.pk).product_ids == [product.pk]


def test_alert_toggle_and_listing(shopper_client, shopper, make_product):
    sold_out, in_stock = make_product(stock=0), make_product(stock=2)
    for product in (in_stock, sold_out):
        wishlist_toggle(user_id=shopper.pk, product_id=product.pk)
    path = f"/api/wishlist/items/{sold_out.pk}/alert"
    response = call(shopper_client, "PUT", path, {"wanted": True})
    assert response.status_code == 200
    items = {item["product_id"]: item for item in response.json()["items"]}
    assert (items[sold_out.pk]["alert_wanted"], items[sold_out.pk]["can_ask_alert"]) == (True, True)
    assert (items[in_stock.pk]["alert_wanted"], items[in_stock.pk]["can_ask_alert"]) == (
        False,
        False,
    )
    assert response.json()["back_in_stock_count"] == 0
    refused = call(
        shopper_client, "PUT", f"/api/wishlist/items/{in_stock.pk}/alert", {"wanted": True}
    )
    assert_error(refused, 409, "alert_not_needed")
    assert_error(call(shopper_client, "PUT", path, {"wanted": "yes"}), 400, "invalid_request")
    off = call(shopper_client, "PUT", path, {"wanted": False})
    assert {i["product_id"]: i["alert_wanted"] for i in off.json()["items"]}[sold_out.pk] is False


def test_listing_shows_price_at_add_drop_and_back_in_stock(
    shopper_client, shopper, make_product, django_capture_on_commit_callbacks
):
    from catalog.models import StockMovement
    from catalog.services import stock_adjust

    product = make_product(stock=0, price_minor=200000)
    wishlist_toggle(user_id=shopper.pk, product_id=product.pk)
    wishlist_alert_set(user_id=shopper.pk, product_id=product.pk, wanted=True)
    Product.objects.filter(pk=product.pk).update(price_minor=175000)
    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(product_id=product.pk, delta=2, reason=StockMovement.Reason.RESTOCK)
    listing = shopper_client.get("/api/wishlist").json()
    [item] = listing["items"]
    assert item["added_price"] == {"amount": 200000, "currency": "BDT"}
    assert item["price_drop"] == {"amount": 25000, "currency": "BDT"}
    assert (item["back_in_stock"], item["alert_wanted"]) == (True, False)
    assert listing["back_in_stock_count"] == 1


def test_moves_need_sign_in(client, make_product):
    product = make_product()
    assert_error(
        call(client, "POST", "/api/wishlist/from-cart", {"product_id": product.pk}),
        401,
        "not_authenticated",
    )
    assert_error(
        call(client, "POST", f"/api/wishlist/items/{product.pk}/move-to-cart"),
        401,
        "not_authenticated",
    )


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("path", ["/wishlist/", "/cart/"])
def test_pages_cost_constant_queries(shopper_client, shopper, make_product, path):
    products = [make_product(stock=5 if n % 2 else 0, price_minor=90000) for n in range(10)]
    in_stock = [p for p in products if p.stock]
    wishlist_toggle(user_id=shopper.pk, product_id=products[0].pk)
    cart_add_line(user_id=shopper.pk, product_id=in_stock[0].pk, quantity=1)
    _queries(shopper_client, path)  # the first view fills the catalogue cache (the menu)
    few = _queries(shopper_client, path)
    for product in products[1:]:
        wishlist_toggle(user_id=shopper.pk, product_id=product.pk)
        if not product.stock:
            wishlist_alert_set(user_id=shopper.pk, product_id=product.pk, wanted=True)
    for product in in_stock[1:]:
        cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=1)
    Product.objects.update(price_minor=80000)  # every item shows a drop
    many = _queries(shopper_client, path)
    assert few == many
