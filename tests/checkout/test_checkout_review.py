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


def place_order_button(body: str) -> str:
    """The text of the form's place-order button."""
    import re

    [text] = re.findall(r"<button[^>]*data-place-order[^>]*>([^<]*)</button>", body)
    return text


def test_the_place_order_button_names_the_next_step_of_the_chosen_method(
    shopper_client, make_product
):
    """Without JavaScript too: the server picks the words from the chosen method (before:
    "Place order and pay" even with cash on delivery chosen)."""
    item = make_product(stock=4, price_minor=150000)
    selection = {"buy_now": item.pk, "quantity": 1}
    card = shopper_client.get("/checkout/", selection).content.decode()
    assert place_order_button(card) == "Continue to payment · ৳ 1,500"
    # "Update total" posts the form back with the method chosen.
    cod = shopper_client.post("/checkout/", {**selection, "payment_method": "cod"})
    assert place_order_button(cod.content.decode()) == "Place order · ৳ 1,500"
    # Both are on the button for the script to switch between when the radios change.
    assert 'data-label-cod="Place order · ৳ 1,500"' in card
    assert 'data-label-card="Continue to payment · ৳ 1,500"' in card


def test_the_place_order_button_says_card_when_cash_on_delivery_is_not_offered(
    shopper_client, make_product, settings
):
    settings.COD_MAX_TOTAL_MINOR = 0  # cash on delivery off: the card is what will be used
    item = make_product(stock=4, price_minor=150000)
    page = shopper_client.post(
        "/checkout/", {"buy_now": item.pk, "quantity": 1, "payment_method": "cod"}
    )
    assert place_order_button(page.content.decode()).startswith("Continue to payment")


def test_the_place_order_button_in_bangla(shopper_client, make_product):
    item = make_product(stock=4, price_minor=150000)
    selection = {"buy_now": item.pk, "quantity": 1}
    card = shopper_client.get("/checkout/", selection, HTTP_ACCEPT_LANGUAGE="bn")
    cod = shopper_client.post(
        "/checkout/", {**selection, "payment_method": "cod"}, HTTP_ACCEPT_LANGUAGE="bn"
    )
    assert place_order_button(card.content.decode()).startswith("পেমেন্টে যান ·")
    assert place_order_button(cod.content.decode()).startswith("অর্ডার করুন ·")
