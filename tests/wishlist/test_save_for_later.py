"""Moving between the cart and the wishlist, and the price remembered when an item is saved."""

from __future__ import annotations

import pytest

from cart import selectors as cart_selectors
from cart import services as cart_services
from haat.errors import (
    InsufficientStock,
    NotInCart,
    NotInWishlist,
    ProductUnavailable,
    StoreBusy,
)
from haat.store import get_store
from wishlist import selectors, services

pytestmark = pytest.mark.django_db


def _cart(user):
    return cart_selectors.cart_contents(user_id=user.pk).lines


def _wishlist(user):
    return selectors.wishlist_contents(user_id=user.pk).product_ids


def test_move_to_cart_adds_one_and_takes_it_off_the_wishlist(shopper, make_product):
    kept, moved = make_product(stock=5), make_product(stock=5)
    services.wishlist_toggle(user_id=shopper.pk, product_id=kept.pk)
    services.wishlist_toggle(user_id=shopper.pk, product_id=moved.pk)
    cart, wishlist = services.wishlist_move_to_cart(user_id=shopper.pk, product_id=moved.pk)
    assert cart.lines == {moved.pk: 1} == _cart(shopper)
    assert wishlist.product_ids == [kept.pk] == _wishlist(shopper)


def test_move_to_cart_adds_to_a_line_and_never_beyond_stock(shopper, make_product):
    two = make_product(stock=2)
    cart_services.cart_add_line(user_id=shopper.pk, product_id=two.pk, quantity=1)
    services.wishlist_toggle(user_id=shopper.pk, product_id=two.pk)
    services.wishlist_move_to_cart(user_id=shopper.pk, product_id=two.pk)
    assert _cart(shopper) == {two.pk: 2}
    # Every unit already in the cart: it stays at the stock, and still leaves the wishlist.
    services.wishlist_toggle(user_id=shopper.pk, product_id=two.pk)
    services.wishlist_move_to_cart(user_id=shopper.pk, product_id=two.pk)
    assert _cart(shopper) == {two.pk: 2}
    assert _wishlist(shopper) == []


def test_move_to_cart_out_of_stock_is_refused_and_changes_nothing(shopper, make_product):
    sold_out = make_product(stock=0, name="Sold Out Fan")
    services.wishlist_toggle(user_id=shopper.pk, product_id=sold_out.pk)
    with pytest.raises(InsufficientStock) as refusal:
        services.wishlist_move_to_cart(user_id=shopper.pk, product_id=sold_out.pk)
    assert refusal.value.message == "Sold Out Fan is out of stock."
    assert _cart(shopper) == {}
    assert _wishlist(shopper) == [sold_out.pk]


def test_move_to_cart_off_sale_or_not_wishlisted_is_refused(shopper, make_product):
    withdrawn, other = make_product(), make_product()
    services.wishlist_toggle(user_id=shopper.pk, product_id=withdrawn.pk)
    withdrawn.is_published = False
    withdrawn.save()
    with pytest.raises(ProductUnavailable):
        services.wishlist_move_to_cart(user_id=shopper.pk, product_id=withdrawn.pk)
    with pytest.raises(NotInWishlist):
        services.wishlist_move_to_cart(user_id=shopper.pk, product_id=other.pk)
    assert _cart(shopper) == {}
    assert _wishlist(shopper) == [withdrawn.pk]


def test_save_for_later_moves_the_line_to_the_wishlist(shopper, make_product):
    stays, later = make_product(stock=5), make_product(stock=5, price_minor=80000)
    cart_services.cart_add_line(user_id=shopper.pk, product_id=stays.pk, quantity=1)
    cart_services.cart_add_line(user_id=shopper.pk, product_id=later.pk, quantity=3)
    cart, wishlist = services.wishlist_save_from_cart(user_id=shopper.pk, product_id=later.pk)
    assert cart.lines == {stays.pk: 1} == _cart(shopper)
    assert wishlist.product_ids == [later.pk] == _wishlist(shopper)
    assert wishlist.items[0].added_price_minor == 80000


def test_save_for_later_of_a_wishlisted_product_keeps_one_item(shopper, make_product):
    product = make_product()
    services.wishlist_toggle(user_id=shopper.pk, product_id=product.pk)
    cart_services.cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=1)
    services.wishlist_save_from_cart(user_id=shopper.pk, product_id=product.pk)
    assert _wishlist(shopper) == [product.pk]
    assert _cart(shopper) == {}


def test_save_for_later_refused_leaves_the_line(shopper, make_product):
    product, other = make_product(), make_product()
    cart_services.cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=2)
    product.is_published = False
    product.save()
    with pytest.raises(ProductUnavailable):
        services.wishlist_save_from_cart(user_id=shopper.pk, product_id=product.pk)
    with pytest.raises(NotInCart):
        services.wishlist_save_from_cart(user_id=shopper.pk, product_id=other.pk)
    assert _cart(shopper) == {product.pk: 2}
    assert _wishlist(shopper) == []


def test_save_for_later_keeps_the_line_when_the_wishlist_fails(shopper, make_product, monkeypatch):
    product = make_product()
    cart_services.cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=2)
    store = get_store()

    def busy(*args, **kwargs):
        raise StoreBusy()

    monkeypatch.setattr(type(store), "wishlist_update", busy)
    with pytest.raises(StoreBusy):
        services.wishlist_save_from_cart(user_id=shopper.pk, product_id=product.pk)
    monkeypatch.undo()
    assert _cart(shopper) == {product.pk: 2}
    assert _wishlist(shopper) == []


def test_move_to_cart_keeps_the_item_when_the_cart_fails(shopper, make_product, monkeypatch):
    product = make_product()
    services.wishlist_toggle(user_id=shopper.pk, product_id=product.pk)

    def busy(*args, **kwargs):
        raise StoreBusy()

    monkeypatch.setattr(type(get_store()), "cart_update", busy)
    with pytest.raises(StoreBusy):
        services.wishlist_move_to_cart(user_id=shopper.pk, product_id=product.pk)
    monkeypatch.undo()
    assert _wishlist(shopper) == [product.pk]
    assert _cart(shopper) == {}


def test_price_drop_since_saved(shopper, make_product):
    product = make_product(price_minor=150000)
    services.wishlist_toggle(user_id=shopper.pk, product_id=product.pk)
    [item] = selectors.wishlist_get(user_id=shopper.pk).items
    assert (item.added_price_minor, item.price_drop_minor) == (150000, 0)
    product.price_minor = 125050
    product.save()
    [item] = selectors.wishlist_get(user_id=shopper.pk).items
    assert item.price_drop_minor == 24950
    product.price_minor = 160000
    product.save()
    [item] = selectors.wishlist_get(user_id=shopper.pk).items
    assert item.price_drop_minor == 0  # dearer now: nothing to say
