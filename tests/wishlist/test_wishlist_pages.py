"""The wishlist page and its plain-form actions."""

from __future__ import annotations

import pytest

from wishlist.selectors import wishlist_contents
from wishlist.services import wishlist_toggle

pytestmark = pytest.mark.django_db


def test_wishlist_page_needs_sign_in(client):
    assert client.get("/wishlist/").status_code == 302


def test_wishlist_page_flags_items(shopper_client, shopper, make_product):
    sold_out = make_product(stock=0, name="Sold Out Fan")
    withdrawn = make_product(stock=3, name="Withdrawn Lamp")
    for product in (sold_out, withdrawn):
        wishlist_toggle(user_id=shopper.pk, product_id=product.pk)
    withdrawn.is_published = False
    withdrawn.save()
    body = shopper_client.get("/wishlist/").content.decode()
    # Each flag is said once, and the disabled button points at it for screen readers.
    assert body.count("Out of stock") == 1
    assert body.count("No longer available") == 1
    assert body.count("disabled aria-describedby") == 2
    for product in (sold_out, withdrawn):
        assert f'aria-describedby="stock-{product.pk}"' in body
        assert f'id="stock-{product.pk}"' in body


def test_a_full_cart_is_the_only_reason_said_under_the_button(
    shopper_client, shopper, make_product
):
    from cart.services import cart_add_line

    last_two = make_product(stock=2, name="Last Two Mugs")
    wishlist_toggle(user_id=shopper.pk, product_id=last_two.pk)
    cart_add_line(user_id=shopper.pk, product_id=last_two.pk, quantity=2)
    body = shopper_client.get("/wishlist/").content.decode()
    assert body.count("All available units are in your cart") == 1
    assert f'aria-describedby="why-{last_two.pk}"' in body


def test_plain_form_toggle_and_remove(shopper_client, shopper, make_product):
    product = make_product()
    shopper_client.post("/wishlist/toggle/", {"product_id": product.pk})
    assert wishlist_contents(user_id=shopper.pk).product_ids == [product.pk]
    shopper_client.post(f"/wishlist/items/{product.pk}/remove/")
    assert wishlist_contents(user_id=shopper.pk).product_ids == []
    again = shopper_client.post(f"/wishlist/items/{product.pk}/remove/", follow=True)
    assert "not in your wishlist" in again.content.decode()


def test_empty_wishlist_page(shopper_client):
    assert "Your wishlist is empty" in shopper_client.get("/wishlist/").content.decode()
