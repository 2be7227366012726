"""The checkout review: selected cart lines or one Buy Now item, checked against stock."""

from __future__ import annotations

import pytest

from cart.selectors import cart_contents
from cart.services import cart_add_line
from catalog.services import stock_adjust

pytestmark = pytest.mark.django_db


def test_review_of_selected_lines(shopper_client, shopper, make_product):
    a = make_product(name="Alpha Pan", price_minor=10000)
    b = make_product(name="Beta Pot", price_minor=20000)
    cart_add_line(user_id=shopper.pk, product_id=a.pk, quantity=2)
    cart_add_line(user_id=shopper.pk, product_id=b.pk, quantity=1)
    body = shopper_client.get("/checkout/", {"product_ids": [a.pk]}).content.decode()
    assert "Alpha Pan" in body and "Beta Pot" not in body
    assert "৳ 200" in body


def test_review_with_nothing_selected(shopper_client):
    response = shopper_client.get("/checkout/", follow=True)
    assert "Choose at least one item" in response.content.decode()


def test_buy_now_leaves_the_cart_alone(shopper_client, shopper, make_product):
    product = make_product(stock=4, name="Quick Buy")
    other = make_product()
    cart_add_line(user_id=shopper.pk, product_id=other.pk, quantity=1)
    start = shopper_client.post("/checkout/buy-now/", {"product_id": product.pk, "quantity": "3"})
    assert start.headers["Location"] == f"/checkout/?buy_now={product.pk}&quantity=3"
    body = shopper_client.get(start.headers["Location"]).content.decode()
    assert "Quick Buy" in body and "Buy now" in body
    assert cart_contents(user_id=shopper.pk).lines == {other.pk: 1}


def test_anonymous_buy_now_goes_through_sign_in(client, make_product):
    product = make_product(stock=4)
    response = client.post("/checkout/buy-now/", {"product_id": product.pk, "quantity": "1"})
    assert response.headers["Location"].startswith("/account/sign-in/?next=/checkout/")


def test_review_lists_problems(shopper_client, shopper, make_product):
    product = make_product(stock=5, name="Short Kettle")
    cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=4)
    stock_adjust(product_id=product.pk, delta=-3, reason="sale")
    body = shopper_client.get("/checkout/", {"product_ids": [product.pk]}).content.decode()
    assert "you asked for 4, only 2 left" in body


DELIVERY = {
    "name": "Rina Akter",
    "phone": "01712345678",
    "address": "House 12, Road 5, Dhanmondi",
    "city": "Dhaka",
}


def test_placing_an_order_needs_delivery_details(shopper_client, shopper, make_product):
    from catalog.models import Product
    from orders.models import Order

    product = make_product(stock=4)
    response = shopper_client.post("/checkout/start/", {"buy_now": product.pk, "quantity": "1"})
    assert response.status_code == 400  # the form again, with what is missing
    assert "This field is required" in response.content.decode()
    bad_phone = shopper_client.post(
        "/checkout/start/", {"buy_now": product.pk, "quantity": "1", **DELIVERY, "phone": "call me"}
    )
    assert "mobile number the courier can call" in bad_phone.content.decode()
    assert Order.objects.count() == 0
    assert Product.objects.get(pk=product.pk).stock == 4
    placed = shopper_client.post(
        "/checkout/start/", {"buy_now": product.pk, "quantity": "1", **DELIVERY}
    )
    assert placed.status_code == 302
    order = Order.objects.get()
    assert (order.delivery_name, order.delivery_city) == ("Rina Akter", "Dhaka")
    # The next checkout is filled in with the same details.
    page = shopper_client.get("/checkout/", {"buy_now": product.pk, "quantity": 1}).content.decode()
    assert (
        'value="House 12, Road 5, Dhanmondi"' in page
        or "House 12, Road 5, Dhanmondi</textarea>" in page
    )


def test_refused_start_keeps_the_delivery_details(shopper_client, shopper, make_product):
    product = make_product(stock=5, name="Short Kettle")
    cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=4)
    stock_adjust(product_id=product.pk, delta=-3, reason="sale")
    response = shopper_client.post("/checkout/start/", {"product_ids": [product.pk], **DELIVERY})
    body = response.content.decode()
    assert "you asked for 4, only 2 left" in body
    assert 'value="Rina Akter"' in body
