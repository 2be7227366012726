"""The cart page and its plain-form actions (the no-JavaScript path)."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cart.selectors import cart_contents
from cart.services import cart_add_line
from catalog.services import stock_adjust
from haat.errors import InsufficientStock, ShortItem
from haat.staticfiles import minify_js

pytestmark = pytest.mark.django_db


def test_cart_page_needs_sign_in(client):
    response = client.get("/cart/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in/?next=/cart/")


def test_cart_page_lists_lines_and_summary(shopper_client, shopper, make_product):
    product = make_product(stock=9, price_minor=125000, name="Rice Cooker")
    cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=2)
    body = shopper_client.get("/cart/").content.decode()
    assert "Rice Cooker" in body
    assert "৳ 2,500" in body
    assert "Proceed to checkout" in body
    assert 'name="product_ids"' in body


def test_fragment_request_gets_only_the_cart_body(shopper_client, shopper, make_product):
    cart_add_line(user_id=shopper.pk, product_id=make_product().pk, quantity=1)
    response = shopper_client.get("/cart/", headers={"X-Haat-Fragment": "cart-body"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="cart-body"')
    assert "<html" not in body
    assert "X-Haat-Fragment" in response.headers["Vary"]  # caches keep page and part apart
    # A name the view does not offer gets the whole page.
    other = shopper_client.get("/cart/", headers={"X-Haat-Fragment": "base"}).content.decode()
    assert "<html" in other


def test_empty_cart_page(shopper_client):
    assert "Your cart is empty" in shopper_client.get("/cart/").content.decode()


def test_plain_form_add_to_cart(shopper_client, shopper, make_product):
    product = make_product(stock=5)
    response = shopper_client.post(
        "/cart/add/",
        {"product_id": product.pk, "quantity": "2", "next": product.get_absolute_url()},
    )
    assert response.headers["Location"] == product.get_absolute_url()
    assert cart_contents(user_id=shopper.pk).lines == {product.pk: 2}
    refused = shopper_client.post(
        "/cart/add/", {"product_id": product.pk, "quantity": "9"}, follow=True
    )
    # The page shows the refusal's message (haat.errors): the line would hold 11 of 5.
    shown = InsufficientStock(items=[ShortItem(product.pk, product.name, 11, 5)]).message
    assert shown in refused.content.decode()
    assert cart_contents(user_id=shopper.pk).lines == {product.pk: 2}


@pytest.mark.parametrize("quantity", ["0", "-1", "abc", "", "1e3", "99999999999"])
def test_plain_form_bad_quantity(shopper_client, shopper, make_product, quantity):
    product = make_product(stock=5)
    response = shopper_client.post(
        "/cart/add/", {"product_id": product.pk, "quantity": quantity}, follow=True
    )
    assert "Quantity must be a whole number" in response.content.decode()
    assert cart_contents(user_id=shopper.pk).lines == {}


def test_plain_form_bad_product(shopper_client, shopper):
    response = shopper_client.post(
        "/cart/add/", {"product_id": "nope", "quantity": "1"}, follow=True
    )
    assert "could not be found" in response.content.decode()


def test_plain_form_rejects_unsafe_next(shopper_client, make_product):
    product = make_product(stock=5)
    response = shopper_client.post(
        "/cart/add/", {"product_id": product.pk, "quantity": "1", "next": "https://evil.example/"}
    )
    assert response.headers["Location"] == "/cart/"


def test_plain_form_set_quantity(shopper_client, shopper, make_product):
    product = make_product(stock=5)
    cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=1)
    shopper_client.post(f"/cart/lines/{product.pk}/quantity/", {"quantity": "4"})
    assert cart_contents(user_id=shopper.pk).lines == {product.pk: 4}
    shopper_client.post(f"/cart/lines/{product.pk}/quantity/", {"quantity_typed": "3"})
    assert cart_contents(user_id=shopper.pk).lines == {product.pk: 3}
    refused = shopper_client.post(
        f"/cart/lines/{product.pk}/quantity/", {"quantity": "6"}, follow=True
    )
    assert "Only 5" in refused.content.decode()
    assert cart_contents(user_id=shopper.pk).lines == {product.pk: 3}


def test_delete_asks_then_removes(shopper_client, shopper, make_product):
    a, b = make_product(name="Alpha Pan"), make_product(name="Beta Pot")
    cart_add_line(user_id=shopper.pk, product_id=a.pk, quantity=1)
    cart_add_line(user_id=shopper.pk, product_id=b.pk, quantity=1)
    confirm = shopper_client.get("/cart/remove/", {"product_ids": [a.pk, b.pk]})
    assert "Delete 2 products from your cart?" in confirm.content.decode()
    assert len(cart_contents(user_id=shopper.pk).lines) == 2  # asking changes nothing
    shopper_client.post("/cart/remove/", {"product_ids": [a.pk]})
    assert cart_contents(user_id=shopper.pk).lines == {b.pk: 1}


def test_delete_with_nothing_chosen(shopper_client):
    response = shopper_client.get("/cart/remove/", follow=True)
    assert "Choose at least one item" in response.content.decode()


def test_short_and_unavailable_lines_are_flagged_with_fixes(shopper_client, shopper, make_product):
    short = make_product(stock=5, name="Short Kettle")
    gone = make_product(stock=5, name="Gone Lamp")
    cart_add_line(user_id=shopper.pk, product_id=short.pk, quantity=4)
    cart_add_line(user_id=shopper.pk, product_id=gone.pk, quantity=1)
    stock_adjust(product_id=short.pk, delta=-3, reason="sale")
    gone.is_published = False
    gone.save()
    body = shopper_client.get("/cart/").content.decode()
    assert "Only 2 left (you have 4)" in body
    assert "Reduce to 2" in body
    assert "No longer available." in body
    assert "Remove it" in body


def test_product_page_first_load_javascript_is_small(client, make_product):
    """Issue budget: at most 10 KB of gzipped JavaScript on the product page's first load, every
    <script> counted: the files it loads, as collectstatic ships them (minified), and the inline
    ones (not the JSON data blocks)."""
    body = client.get(make_product().get_absolute_url()).content.decode()
    total = 0
    sources = re.findall(r'<script[^>]+src="([^"]+)"', body)
    assert sources
    for src in sources:
        path = finders.find(src.split("/static/", 1)[1])
        assert path, src
        total += len(gzip.compress(minify_js(Path(path).read_text()).encode(), compresslevel=9))
    for attributes, code in re.findall(r"<script([^>]*)>(.*?)</script>", body, flags=re.S):
        if "src=" not in attributes and "application/json" not in attributes:
            total += len(gzip.compress(code.encode(), compresslevel=9))
    print(f"product page first-load JavaScript: {total / 1024:.1f} KB gzipped")
    assert total <= 10 * 1024


def test_cart_page_reads_the_cart_once_for_its_lines_and_header(
    shopper_client, shopper, make_product
):
    first, second = make_product(), make_product()
    cart_add_line(user_id=shopper.pk, product_id=first.pk, quantity=2)
    cart_add_line(user_id=shopper.pk, product_id=second.pk, quantity=1)
    for headers in ({}, {"X-Haat-Fragment": "cart-body"}):
        with CaptureQueriesContext(connection) as queries:
            assert shopper_client.get("/cart/", headers=headers).status_code == 200
        cart_reads = [q["sql"] for q in queries.captured_queries if '"cart_cart"' in q["sql"]]
        assert len(cart_reads) == 1, headers
        # The page's header shows the wishlist's count too, read with the cart; the cart's part
        # alone needs no wishlist.
        wishlist_reads = [q for q in queries.captured_queries if '"wishlist_wishlist"' in q["sql"]]
        assert len(wishlist_reads) == (0 if headers else 1)
        assert ('"wishlist_wishlist"' in cart_reads[0]) == (not headers)
    page = shopper_client.get("/cart/").content.decode()
    badge = re.search(r'data-badge="cart"\s*>.*?</span>\s*([^<]+)</span>', page, re.S)
    assert badge and badge.group(1).strip() == "3"


def test_cart_lines_show_each_cart_and_stock_as_they_are_now(make_user, make_product):
    """A line's markup is kept per process and line: another cart's quantity, or the stock
    before a sale, never shows."""
    product = make_product(stock=9, name="Clay Pot")
    first, second = make_user(), make_user()
    pages = {}
    for user, quantity in ((first, 2), (second, 5)):
        cart_add_line(user_id=user.pk, product_id=product.pk, quantity=quantity)
        pages[user.pk] = Client()
        pages[user.pk].force_login(user)

    def line(user) -> str:
        body = pages[user.pk].get("/cart/").content.decode()
        found = re.search(r'<li class="cart-line.*?</li>', body, re.S)
        assert found
        return found.group(0)

    assert 'data-quantity="2"' in line(first)
    assert 'data-quantity="5"' in line(second)
    assert 'data-quantity="2"' in line(first) and "left" not in line(first)
    stock_adjust(product_id=product.pk, delta=-6, reason="correction")
    assert "Only 3 left (you have 5)" in line(second)
    assert 'data-max="3"' in line(first)


def test_line_forms_carry_each_request_s_own_csrf_token(make_user, make_product):
    """The lines' hidden forms are copies per line (the same for two shoppers with the same
    line): the CSRF token in them is each page's own."""
    product = make_product()
    pages = []
    for email in ("one@example.com", "two@example.com"):
        shopper = make_user(email)
        cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=1)
        client = Client()
        client.force_login(shopper)
        pages.append(client.get("/cart/").content.decode())
    tokens = []
    for page in pages:
        form = re.search(
            rf'<form id="qty-{product.pk}" method="post" action="[^"]+" hidden>(.*?)</form>', page
        )
        assert form, page
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(1))
        assert token
        tokens.append(token.group(1))
        later = re.search(
            rf'<form id="later-{product.pk}" method="post" action="[^"]+" hidden>(.*?)</form>', page
        )
        assert later and token.group(1) in later.group(1)
    assert tokens[0] != tokens[1]
