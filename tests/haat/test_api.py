"""API-wide behaviour: state, authentication, CSRF, isolation between users, bad bodies, cost."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cart.selectors import cart_contents
from tests.api_helpers import assert_error, call
from wishlist.selectors import wishlist_contents

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("GET", "/api/cart", None),
    ("POST", "/api/cart/lines", {"product_id": 1, "quantity": 1}),
    ("PATCH", "/api/cart/lines/1", {"quantity": 1}),
    ("DELETE", "/api/cart/lines/1", None),
    ("POST", "/api/cart/lines/remove", {"product_ids": [1]}),
    ("GET", "/api/wishlist", None),
    ("POST", "/api/wishlist/toggle", {"product_id": 1}),
    ("DELETE", "/api/wishlist/items/1", None),
    ("GET", "/api/state", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_anonymous_calls_get_401(client, method, path, body):
    assert_error(call(client, method, path, body), 401, "not_authenticated")


def test_state_has_everything_the_page_store_needs(shopper_client, make_product):
    a, b = make_product(stock=5), make_product(stock=5)
    empty = shopper_client.get("/api/state").json()
    assert empty == {
        "cart": {},
        "wishlist": [],
        "cart_count": 0,
        "cart_lines": 0,
        "wishlist_count": 0,
        "cart_version": 0,
        "wishlist_version": 0,
        "version": 0,
    }
    call(shopper_client, "POST", "/api/cart/lines", {"product_id": a.pk, "quantity": 2})
    v1 = shopper_client.get("/api/state").json()["version"]
    call(shopper_client, "POST", "/api/wishlist/toggle", {"product_id": b.pk})
    state = shopper_client.get("/api/state").json()
    assert state["cart"] == {str(a.pk): 2}
    assert state["wishlist"] == [b.pk]
    assert (state["cart_count"], state["cart_lines"], state["wishlist_count"]) == (2, 1, 1)
    assert state["version"] > v1 > 0


def test_csrf_is_enforced_for_session_writes(shopper, make_product):
    product = make_product()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(shopper)
    refused = call(browser, "POST", "/api/cart/lines", {"product_id": product.pk, "quantity": 1})
    assert_error(refused, 403, "csrf_failed")
    assert cart_contents(user_id=shopper.pk).lines == {}
    browser.get("/")  # the page sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    accepted = browser.post(
        "/api/cart/lines",
        {"product_id": product.pk, "quantity": 1},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert accepted.status_code == 200
    assert browser.get("/api/cart").status_code == 200  # reads need no token


def test_one_shopper_cannot_touch_another_shoppers_cart_or_wishlist(make_user, make_product):
    alice, bob = make_user(), make_user()
    product = make_product(stock=5)
    alice_client, bob_client = Client(), Client()
    alice_client.force_login(alice)
    bob_client.force_login(bob)
    call(alice_client, "POST", "/api/cart/lines", {"product_id": product.pk, "quantity": 2})
    call(alice_client, "POST", "/api/wishlist/toggle", {"product_id": product.pk})

    assert bob_client.get("/api/cart").json()["lines"] == []
    assert bob_client.get("/api/wishlist").json()["items"] == []
    assert_error(
        call(bob_client, "PATCH", f"/api/cart/lines/{product.pk}", {"quantity": 1}),
        404,
        "line_not_found",
    )
    assert_error(bob_client.delete(f"/api/cart/lines/{product.pk}"), 404, "line_not_found")
    assert_error(bob_client.delete(f"/api/wishlist/items/{product.pk}"), 404, "not_in_wishlist")
    removed = call(
        bob_client, "POST", "/api/cart/lines/remove", {"product_ids": [product.pk]}
    ).json()
    assert removed["not_in_cart"] == [product.pk]
    # Bob toggling the same product only touches Bob's wishlist.
    call(bob_client, "POST", "/api/wishlist/toggle", {"product_id": product.pk})

    assert cart_contents(user_id=alice.pk).lines == {product.pk: 2}
    assert wishlist_contents(user_id=alice.pk).product_ids == [product.pk]
    assert wishlist_contents(user_id=bob.pk).product_ids == [product.pk]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", "malformed_json"),
        ("", "invalid_request"),
        ("[]", "invalid_request"),
        ("null", "invalid_request"),
        ('{"product_id": 1}', "invalid_quantity"),
        ('{"quantity": 1}', "invalid_request"),
        ('{"product_id": "abc", "quantity": 1}', "invalid_request"),
        ('{"product_id": 99999999999999999999999, "quantity": 1}', "invalid_request"),
        ('{"product_id": 1, "quantity": 1, "extra": true}', "invalid_request"),
    ],
)
def test_bad_bodies_get_400_and_change_nothing(shopper_client, shopper, make_product, raw, code):
    make_product()
    response = call(shopper_client, "POST", "/api/cart/lines", raw=raw)
    assert_error(response, 400, code)
    assert cart_contents(user_id=shopper.pk).lines == {}


@pytest.mark.parametrize("product_id", ["0", "-1", "99999999999999999999999", "abc"])
def test_bad_path_ids(shopper_client, product_id):
    response = call(shopper_client, "PATCH", f"/api/cart/lines/{product_id}", {"quantity": 1})
    assert response.status_code in {400, 404}
    assert set(response.json()) == {"code", "message", "details"}


def _count_queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("path", ["/api/cart", "/api/state", "/api/wishlist"])
def test_reads_cost_constant_queries(shopper_client, make_product, path):
    products = [make_product(stock=50) for _ in range(12)]
    call(shopper_client, "POST", "/api/cart/lines", {"product_id": products[0].pk, "quantity": 1})
    call(shopper_client, "POST", "/api/wishlist/toggle", {"product_id": products[0].pk})
    few = _count_queries(shopper_client, path)
    for product in products[1:]:
        call(shopper_client, "POST", "/api/cart/lines", {"product_id": product.pk, "quantity": 2})
        call(shopper_client, "POST", "/api/wishlist/toggle", {"product_id": product.pk})
    many = _count_queries(shopper_client, path)
    assert few == many


def test_openapi_document_is_served(client, db):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    paths = set(document["paths"])
    assert {
        "/api/cart",
        "/api/cart/lines",
        "/api/cart/lines/{product_id}",
        "/api/cart/lines/remove",
        "/api/wishlist",
        "/api/wishlist/toggle",
        "/api/wishlist/items/{product_id}",
        "/api/state",
    } <= paths
    assert client.get("/api/docs").status_code == 200


def test_openapi_document_is_valid(client, db):
    from openapi_spec_validator import validate

    validate(client.get("/api/openapi.json").json())
