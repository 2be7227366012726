"""Save for later, Move to Cart and the alert toggle as plain forms (no JavaScript), and what
the wishlist page says about drops and returns, in English and Bangla."""

from __future__ import annotations

import pytest

from cart.selectors import cart_contents
from cart.services import cart_add_line
from catalog.models import Product, StockMovement
from catalog.services import stock_adjust
from wishlist.selectors import wishlist_contents, wishlist_get
from wishlist.services import wishlist_alert_set, wishlist_toggle

pytestmark = pytest.mark.django_db


def test_cart_line_has_save_for_later_form(shopper_client, shopper, make_product):
    product = make_product(name="Brass Lamp")
    cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=2)
    body = shopper_client.get("/cart/").content.decode()
    assert f'action="/wishlist/from-cart/{product.pk}/"' in body
    assert 'aria-label="Move Brass Lamp to wishlist"' in body
    answer = shopper_client.post(f"/wishlist/from-cart/{product.pk}/", follow=True)
    assert answer.redirect_chain[-1][0] == "/cart/"
    assert "Moved to your wishlist." in answer.content.decode()
    assert cart_contents(user_id=shopper.pk).lines == {}
    assert wishlist_contents(user_id=shopper.pk).product_ids == [product.pk]


def test_save_for_later_refused_says_why(shopper_client, shopper, make_product):
    product = make_product()
    answer = shopper_client.post(f"/wishlist/from-cart/{product.pk}/", follow=True)
    assert "This product is not in your cart." in answer.content.decode()


def test_move_to_cart_form(shopper_client, shopper, make_product):
    product, sold_out = make_product(stock=2), make_product(stock=0)
    for item in (product, sold_out):
        wishlist_toggle(user_id=shopper.pk, product_id=item.pk)
    body = shopper_client.get("/wishlist/").content.decode()
    assert body.count("data-wishlist-move-form") == 1  # out of stock: no move, the alert instead
    assert body.count("data-wishlist-alert-form") == 1
    answer = shopper_client.post(f"/wishlist/items/{product.pk}/move-to-cart/", follow=True)
    assert "Moved to your cart." in answer.content.decode()
    assert cart_contents(user_id=shopper.pk).lines == {product.pk: 1}
    refused = shopper_client.post(f"/wishlist/items/{sold_out.pk}/move-to-cart/", follow=True)
    assert "is out of stock" in refused.content.decode()


def test_alert_toggle_form(shopper_client, shopper, make_product):
    sold_out = make_product(stock=0)
    wishlist_toggle(user_id=shopper.pk, product_id=sold_out.pk)
    body = shopper_client.get("/wishlist/").content.decode()
    assert 'aria-pressed="false" data-alert-toggle' in body
    answer = shopper_client.post(
        f"/wishlist/items/{sold_out.pk}/alert/", {"wanted": "on"}, follow=True
    )
    assert "We will e-mail you when it is back in stock." in answer.content.decode()
    assert 'aria-pressed="true" data-alert-toggle' in answer.content.decode()
    assert wishlist_get(user_id=shopper.pk).items[0].alert_wanted
    shopper_client.post(f"/wishlist/items/{sold_out.pk}/alert/", {"wanted": "off"})
    assert not wishlist_get(user_id=shopper.pk).items[0].alert_wanted


@pytest.mark.parametrize(
    ("language", "drop", "badge", "count"),
    [
        (
            "en",
            "Price dropped by ৳ 250",
            "Back in stock",
            "1 item you asked about is back in stock",
        ),
        ("bn", "দাম ৳ ২৫০ কমেছে", "আবার স্টকে", "আপনার জানতে চাওয়া ১টি পণ্য আবার স্টকে এসেছে"),
    ],
)
def test_wishlist_page_says_drops_and_returns(
    shopper_client,
    shopper,
    make_product,
    django_capture_on_commit_callbacks,
    language,
    drop,
    badge,
    count,
):
    product = make_product(stock=0, price_minor=150000)
    wishlist_toggle(user_id=shopper.pk, product_id=product.pk)
    wishlist_alert_set(user_id=shopper.pk, product_id=product.pk, wanted=True)
    Product.objects.filter(pk=product.pk).update(price_minor=125000)
    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(product_id=product.pk, delta=3, reason=StockMovement.Reason.RESTOCK)
    shopper_client.cookies["haat_language"] = language
    body = shopper_client.get("/wishlist/").content.decode()
    assert drop in body
    assert body.count(badge) >= 1
    assert count in body
