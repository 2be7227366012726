"""/api/cart: every endpoint, its answers and its refusals."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cart.selectors import cart_contents
from catalog.services import stock_adjust
from tests.api_helpers import assert_error, call

pytestmark = pytest.mark.django_db


def test_get_cart_lists_lines_with_prices_from_the_database(shopper_client, shopper, make_product):
    product = make_product(stock=6, price_minor=125000, name="Rice Cooker")
    call(shopper_client, "POST", "/api/cart/lines", {"product_id": product.pk, "quantity": 2})
    payload = shopper_client.get("/api/cart").json()
    assert payload["count"] == 2
    assert payload["subtotal"] == {"amount": 250000, "currency": "BDT"}
    [line] = payload["lines"]
    assert line == {
        "product_id": product.pk,
        "slug": product.slug,
        "name": "Rice Cooker",
        "image": "",
        "unit_price": {"amount": 125000, "currency": "BDT"},
        "quantity": 2,
        "line_total": {"amount": 250000, "currency": "BDT"},
        "stock": 6,
        "max_quantity": 6,
        "short_by": 0,
        "available": True,
        "availability": {
            "code": "in_stock",
            "message": "In stock",
            "stock": 6,
            "max_quantity": 6,
            "can_buy": True,
        },
    }
    assert payload["version"] >= 1


def test_add_increments_and_refuses_beyond_stock(shopper_client, shopper, make_product):
    product = make_product(stock=5)
    call(shopper_client, "POST", "/api/cart/lines", {"product_id": product.pk, "quantity": 4})
    response = call(
        shopper_client, "POST", "/api/cart/lines", {"product_id": product.pk, "quantity": 2}
    )
    payload = assert_error(response, 409, "insufficient_stock")
    assert payload["details"] == {
        "items": [{"product_id": product.pk, "name": product.name, "requested": 6, "available": 5}]
    }
    assert cart_contents(user_id=shopper.pk).lines == {product.pk: 4}
    ok = call(shopper_client, "POST", "/api/cart/lines", {"product_id": product.pk, "quantity": 1})
    assert ok.status_code == 200
    assert ok.json()["lines"][0]["quantity"] == 5


def test_add_unknown_product(shopper_client):
    response = call(
        shopper_client, "POST", "/api/cart/lines", {"product_id": 123456, "quantity": 1}
    )
    assert_error(response, 404, "product_not_found")


def test_add_unpublished_product(shopper_client, make_product):
    product = make_product(is_published=False)
    response = call(
        shopper_client, "POST", "/api/cart/lines", {"product_id": product.pk, "quantity": 1}
    )
    assert_error(response, 409, "product_unavailable")


@pytest.mark.parametrize("quantity", [0, -3, 10**12, 2.5, "3", True, None, [1], {"n": 1}])
def test_add_invalid_quantity(shopper_client, shopper, make_product, quantity):
    product = make_product(stock=5)
    response = call(
        shopper_client, "POST", "/api/cart/lines", {"product_id": product.pk, "quantity": quantity}
    )
    assert_error(response, 400, "invalid_quantity")
    assert cart_contents(user_id=shopper.pk).lines == {}


def test_patch_sets_quantity_within_stock(shopper_client, shopper, make_product):
    product = make_product(stock=3)
    call(shopper_client, "POST", "/api/cart/lines", {"product_id": product.pk, "quantity": 1})
    ok = call(shopper_client, "PATCH", f"/api/cart/lines/{product.pk}", {"quantity": 3})
    assert ok.status_code == 200 and ok.json()["count"] == 3
    too_many = call(shopper_client, "PATCH", f"/api/cart/lines/{product.pk}", {"quantity": 4})
    refused = assert_error(too_many, 409, "insufficient_stock")
    assert refused["details"]["items"] == [
        {"product_id": product.pk, "name": product.name, "requested": 4, "available": 3}
    ]
    below_one = call(shopper_client, "PATCH", f"/api/cart/lines/{product.pk}", {"quantity": 0})
    assert_error(below_one, 400, "invalid_quantity")
    missing = call(shopper_client, "PATCH", "/api/cart/lines/999999", {"quantity": 1})
    assert_error(missing, 404, "line_not_found")
    assert cart_contents(user_id=shopper.pk).lines == {product.pk: 3}


def test_delete_one_line(shopper_client, shopper, make_product):
    product = make_product()
    call(shopper_client, "POST", "/api/cart/lines", {"product_id": product.pk, "quantity": 1})
    response = shopper_client.delete(f"/api/cart/lines/{product.pk}")
    assert response.status_code == 200 and response.json()["lines"] == []
    assert_error(shopper_client.delete(f"/api/cart/lines/{product.pk}"), 404, "line_not_found")


def test_remove_selected_lines(shopper_client, shopper, make_product):
    a, b, c = make_product(), make_product(), make_product()
    for product in (a, b, c):
        call(shopper_client, "POST", "/api/cart/lines", {"product_id": product.pk, "quantity": 1})
    response = call(
        shopper_client, "POST", "/api/cart/lines/remove", {"product_ids": [a.pk, b.pk, 777777]}
    )
    payload = response.json()
    assert response.status_code == 200
    assert (payload["removed"], payload["not_in_cart"]) == ([a.pk, b.pk], [777777])
    assert [line["product_id"] for line in payload["lines"]] == [c.pk]


@pytest.mark.parametrize(
    "body", [{"product_ids": []}, {"product_ids": "1"}, {"product_ids": [0]}, {}]
)
def test_remove_selected_rejects_bad_bodies(shopper_client, body):
    assert_error(
        call(shopper_client, "POST", "/api/cart/lines/remove", body), 400, "invalid_request"
    )


def test_short_line_is_reported(shopper_client, make_product):
    product = make_product(stock=4)
    call(shopper_client, "POST", "/api/cart/lines", {"product_id": product.pk, "quantity": 4})
    stock_adjust(product_id=product.pk, delta=-3, reason="sale")
    [line] = shopper_client.get("/api/cart").json()["lines"]
    assert (line["stock"], line["short_by"], line["available"]) == (1, 3, True)


def test_client_sent_prices_are_ignored(shopper_client, make_product):
    product = make_product(stock=4, price_minor=5000)
    response = call(
        shopper_client,
        "POST",
        "/api/cart/lines",
        {"product_id": product.pk, "quantity": 1, "price": 1},
    )
    assert_error(response, 400, "invalid_request")


def test_adding_to_a_cart_takes_three_statements_on_its_tables(
    shopper_client, make_product, settings
):
    """The cart's lock is its version bump, the lines come with their products in one read,
    and the answer is built from that read: UPDATE cart, SELECT lines and products, INSERT
    line (it was six: lock, lines, products, insert, bump, and the answer's products again)."""
    if settings.STORE_BACKEND != "database":
        pytest.skip("counts the database store's statements (the Sanity store keeps carts there)")
    first, second = make_product(stock=4), make_product(stock=9)
    call(shopper_client, "POST", "/api/cart/lines", {"product_id": first.pk, "quantity": 1})
    stock_adjust(product_id=first.pk, delta=-1, reason="sale")  # the answer shows it
    with CaptureQueriesContext(connection) as captured:
        response = call(
            shopper_client, "POST", "/api/cart/lines", {"product_id": second.pk, "quantity": 2}
        )
    assert response.status_code == 200
    lines = {line["product_id"]: line for line in response.json()["lines"]}
    assert (lines[first.pk]["stock"], lines[second.pk]["stock"]) == (3, 9)
    assert (lines[first.pk]["quantity"], lines[second.pk]["quantity"]) == (1, 2)
    tables = ('"cart_cart"', '"cart_cartline"', '"catalog_product"')
    on_tables = [q["sql"] for q in captured.captured_queries if any(t in q["sql"] for t in tables)]
    assert len(on_tables) == 3, on_tables


def test_cart_answers_are_written_as_their_validated_schema_would_be(
    shopper_client, shopper, make_product
):
    """The cart's answers skip Ninja's validation (haat.schemas.answer_as_built): each is the
    same bytes as ``CartOut`` validating it and Ninja's renderer writing that, for lines in
    stock, low, short, off sale and deleted."""
    import json

    from ninja.responses import NinjaJSONEncoder

    from cart.api import CartOut, cart_out
    from catalog.models import Product

    plenty, low, short, withdrawn, gone = (make_product(stock=20) for _ in range(5))
    for product in (plenty, low, short, withdrawn, gone):
        call(shopper_client, "POST", "/api/cart/lines", {"product_id": product.pk, "quantity": 3})
    Product.objects.filter(pk=low.pk).update(stock=4)
    Product.objects.filter(pk=short.pk).update(stock=2)
    Product.objects.filter(pk=withdrawn.pk).update(is_published=False)
    gone.delete()

    def validated(data):
        return json.dumps(CartOut.model_validate(data).model_dump(), cls=NinjaJSONEncoder)

    answers = {
        "read": shopper_client.get("/api/cart"),
        "add": shopper_client.post(
            "/api/cart/lines", {"product_id": plenty.pk, "quantity": 1}, "application/json"
        ),
        "set": shopper_client.patch(
            f"/api/cart/lines/{plenty.pk}", {"quantity": 2}, "application/json"
        ),
        "delete": shopper_client.delete(f"/api/cart/lines/{withdrawn.pk}"),
    }
    for name, response in answers.items():
        assert response.status_code == 200, name
        assert response["Content-Type"] == "application/json; charset=utf-8"
        body = response.content.decode()
        assert body == validated(json.loads(body)), name
    lines = json.loads(answers["set"].content)["lines"]
    assert {line["availability"]["code"] for line in lines} == {
        "in_stock",
        "low_stock",
        "unavailable",
    }
    assert any(line["short_by"] for line in lines)
    assert body == validated(cart_out(shopper.pk))
