"""POST /api/checkout and the orders API."""

from __future__ import annotations

import pytest
from django.test import Client

from cart.services import cart_add_line
from catalog.models import Product
from catalog.services import stock_adjust
from orders.models import Order
from payments.services import pay_with_test_card
from tests.api_helpers import assert_error, call

pytestmark = pytest.mark.django_db


def test_checkout_selected_lines(shopper_client, shopper, make_product):
    product = make_product(stock=5, price_minor=1000)
    cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=2)
    response = call(shopper_client, "POST", "/api/checkout", {"product_ids": [product.pk]})
    assert response.status_code == 200
    payload = response.json()
    order = Order.objects.get(pk=payload["order_id"])
    assert payload["payment_url"] == f"http://testserver/payments/test/{order.payment_session_id}/"
    assert payload["order_number"] == order.number
    assert payload["expires_at"]
    assert Product.objects.get(pk=product.pk).stock == 3


def test_checkout_buy_now(shopper_client, make_product):
    product = make_product(stock=5)
    response = call(
        shopper_client,
        "POST",
        "/api/checkout",
        {"buy_now": {"product_id": product.pk, "quantity": 4}},
    )
    assert response.status_code == 200
    assert Product.objects.get(pk=product.pk).stock == 1


def test_checkout_refusal_lists_every_problem(shopper_client, shopper, make_product):
    a, b = make_product(stock=5), make_product(stock=5)
    cart_add_line(user_id=shopper.pk, product_id=a.pk, quantity=3)
    cart_add_line(user_id=shopper.pk, product_id=b.pk, quantity=1)
    stock_adjust(product_id=a.pk, delta=-4, reason="sale")
    response = call(shopper_client, "POST", "/api/checkout", {"product_ids": [a.pk, b.pk]})
    payload = assert_error(response, 409, "insufficient_stock")
    assert payload["details"]["items"] == [
        {"product_id": a.pk, "name": a.name, "requested": 3, "available": 1}
    ]
    assert Order.objects.count() == 0
    assert Product.objects.get(pk=b.pk).stock == 5


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        # Naming nothing breaks the documented schema; naming products not in the cart doesn't.
        ({"product_ids": []}, 400, "invalid_request"),
        ({}, 400, "invalid_request"),
        ({"product_ids": [999_999]}, 409, "empty_selection"),
        ({"product_ids": [1], "buy_now": {"product_id": 1, "quantity": 1}}, 400, "invalid_request"),
        ({"buy_now": {"product_id": 1, "quantity": 0}}, 400, "invalid_quantity"),
        ({"product_ids": [1], "price": 5}, 400, "invalid_request"),
    ],
)
def test_checkout_bad_bodies(shopper_client, make_product, body, status, code):
    make_product(stock=5)
    response = call(shopper_client, "POST", "/api/checkout", body)
    assert_error(response, status, code)
    assert Order.objects.count() == 0


def test_checkout_needs_login_and_csrf(shopper, make_product):
    product = make_product(stock=5)
    assert_error(
        call(
            Client(),
            "POST",
            "/api/checkout",
            {"buy_now": {"product_id": product.pk, "quantity": 1}},
        ),
        401,
        "not_authenticated",
    )
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(shopper)
    assert_error(
        call(
            strict, "POST", "/api/checkout", {"buy_now": {"product_id": product.pk, "quantity": 1}}
        ),
        403,
        "csrf_failed",
    )
    assert Order.objects.count() == 0


def test_orders_api_lists_only_my_orders(make_user, make_product):
    me, other = make_user(), make_user()
    product = make_product(stock=9, price_minor=500)
    mine, theirs = Client(), Client()
    mine.force_login(me)
    theirs.force_login(other)
    my_order = call(
        mine, "POST", "/api/checkout", {"buy_now": {"product_id": product.pk, "quantity": 2}}
    ).json()
    their_order = call(
        theirs, "POST", "/api/checkout", {"buy_now": {"product_id": product.pk, "quantity": 1}}
    ).json()
    pay_with_test_card(
        session_id=Order.objects.get(pk=my_order["order_id"]).payment_session_id,
        card_number="4242424242424242",
    )
    listing = mine.get("/api/orders").json()
    assert [order["id"] for order in listing] == [my_order["order_id"]]
    detail = mine.get(f"/api/orders/{my_order['order_id']}").json()
    assert detail["status"] == "paid"
    assert detail["total"] == {"amount": 1000, "currency": "BDT"}
    assert detail["lines"][0]["quantity"] == 2
    assert_error(mine.get(f"/api/orders/{their_order['order_id']}"), 404, "order_not_found")
    assert_error(Client().get("/api/orders"), 401, "not_authenticated")


def test_checkout_api_takes_delivery_details(shopper_client, make_product):
    product = make_product(stock=5)
    delivery = {
        "name": "Rina",
        "phone": "+8801712345678",
        "address": "House 12, Road 5",
        "city": "Dhaka",
    }
    response = call(
        shopper_client,
        "POST",
        "/api/checkout",
        {"buy_now": {"product_id": product.pk, "quantity": 1}, "delivery": delivery},
    )
    assert response.status_code == 200
    order = Order.objects.get(pk=response.json()["order_id"])
    assert order.delivery_phone == "+8801712345678"
    bad = call(
        shopper_client,
        "POST",
        "/api/checkout",
        {
            "buy_now": {"product_id": product.pk, "quantity": 1},
            "delivery": {**delivery, "phone": "x"},
        },
    )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_request"
