"""An anonymous click is remembered and carried out right after sign-in or sign-up."""

from __future__ import annotations

import pytest

from cart.selectors import cart_contents
from tests.conftest import PASSWORD
from tests.mail_links import confirm_sign_up
from wishlist.selectors import wishlist_contents
from wishlist.services import wishlist_toggle

pytestmark = pytest.mark.django_db


def test_add_to_cart_resumes_after_sign_in(client, make_user, make_product):
    user = make_user("later@example.com")
    product = make_product(stock=5, name="Clay Lamp")
    start = client.post(
        "/cart/add/",
        {"product_id": product.pk, "quantity": "2", "next": product.get_absolute_url()},
    )
    assert start.headers["Location"].startswith("/account/sign-in/?next=")
    assert cart_contents(user_id=user.pk).lines == {}
    signed_in = client.post(
        "/account/sign-in/",
        {"username": user.email, "password": PASSWORD, "next": product.get_absolute_url()},
        follow=True,
    )
    assert signed_in.redirect_chain[-1][0] == product.get_absolute_url()
    assert "Added 2 × Clay Lamp to your cart" in signed_in.content.decode()
    assert cart_contents(user_id=user.pk).lines == {product.pk: 2}
    # Signing in again does not repeat it.
    client.logout()
    client.post("/account/sign-in/", {"username": user.email, "password": PASSWORD})
    assert cart_contents(user_id=user.pk).lines == {product.pk: 2}


def test_heart_resumes_after_sign_up_and_never_removes(client, make_product, mailoutbox):
    product = make_product(name="Brass Bell")
    client.post("/wishlist/toggle/", {"product_id": product.pk, "next": product.get_absolute_url()})
    client.post(
        f"/account/sign-up/?next={product.get_absolute_url()}",
        {"email": "fresh@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    response = confirm_sign_up(client, mailoutbox, follow=True)
    assert response.redirect_chain[-1][0] == product.get_absolute_url()
    assert "Saved Brass Bell to your wishlist" in response.content.decode()
    from accounts.models import User

    user = User.objects.get(email="fresh@example.com")
    assert wishlist_contents(user_id=user.pk).product_ids == [product.pk]


def test_heart_resume_keeps_an_item_already_there(client, make_user, make_product):
    user = make_user()
    product = make_product()
    wishlist_toggle(user_id=user.pk, product_id=product.pk)
    client.post("/wishlist/toggle/", {"product_id": product.pk})
    client.post("/account/sign-in/", {"username": user.email, "password": PASSWORD})
    assert wishlist_contents(user_id=user.pk).product_ids == [product.pk]


def test_refused_resume_says_why(client, make_user, make_product):
    user = make_user()
    product = make_product(stock=1)
    client.post("/cart/add/", {"product_id": product.pk, "quantity": "3"})
    response = client.post(
        "/account/sign-in/", {"username": user.email, "password": PASSWORD}, follow=True
    )
    assert "finish that: Only 1" in response.content.decode()
    assert cart_contents(user_id=user.pk).lines == {}
