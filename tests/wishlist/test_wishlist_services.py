"""The wishlist rules: toggle, remove, and items that outlive their products."""

from __future__ import annotations

import pytest

from cart import services as cart_services
from haat.errors import NotInWishlist, ProductNotFound, ProductUnavailable
from wishlist import selectors, services

pytestmark = pytest.mark.django_db


def test_toggle_adds_then_removes(shopper, make_product):
    product = make_product()
    added, contents = services.wishlist_toggle(user_id=shopper.pk, product_id=product.pk)
    assert added and contents.product_ids == [product.pk]
    removed, contents = services.wishlist_toggle(user_id=shopper.pk, product_id=product.pk)
    assert not removed and contents.product_ids == []


def test_out_of_stock_products_can_be_wishlisted(shopper, make_product):
    product = make_product(stock=0)
    added, _ = services.wishlist_toggle(user_id=shopper.pk, product_id=product.pk)
    assert added
    item = selectors.wishlist_get(user_id=shopper.pk).items[0]
    assert item.available and not item.in_stock and not item.can_add_to_cart
    assert item.availability.message == "Out of stock"


def test_unknown_and_unpublished_products_cannot_be_added(shopper, make_product):
    hidden = make_product(is_published=False)
    with pytest.raises(ProductNotFound):
        services.wishlist_toggle(user_id=shopper.pk, product_id=10**9)
    with pytest.raises(ProductUnavailable):
        services.wishlist_toggle(user_id=shopper.pk, product_id=hidden.pk)
    assert selectors.wishlist_contents(user_id=shopper.pk).items == ()


def test_unpublished_product_stays_listed_and_flagged(shopper, make_product):
    product = make_product(name="Seasonal Lamp")
    services.wishlist_toggle(user_id=shopper.pk, product_id=product.pk)
    product.is_published = False
    product.save()
    item = selectors.wishlist_get(user_id=shopper.pk).items[0]
    assert item.name == "Seasonal Lamp"
    assert not item.available
    assert item.availability.code == "unavailable"
    assert item.availability.message == "No longer available"
    # Toggling it removes it, even though it could not be added now.
    removed, contents = services.wishlist_toggle(user_id=shopper.pk, product_id=product.pk)
    assert not removed and contents.items == ()


def test_deleted_product_stays_listed_until_removed(shopper, make_product):
    product = make_product(name="Discontinued Fan")
    product_id = product.pk
    services.wishlist_toggle(user_id=shopper.pk, product_id=product_id)
    product.delete()
    item = selectors.wishlist_get(user_id=shopper.pk).items[0]
    assert (item.product_id, item.name, item.available, item.price_minor) == (
        product_id,
        "Discontinued Fan",
        False,
        None,
    )
    services.wishlist_remove(user_id=shopper.pk, product_id=product_id)
    assert selectors.wishlist_get(user_id=shopper.pk).items == []


def test_remove_what_is_not_there(shopper, make_product):
    with pytest.raises(NotInWishlist):
        services.wishlist_remove(user_id=shopper.pk, product_id=make_product().pk)


def test_newest_first_and_cart_awareness(shopper, make_product):
    first, second = make_product(stock=2), make_product(stock=2)
    services.wishlist_toggle(user_id=shopper.pk, product_id=first.pk)
    services.wishlist_toggle(user_id=shopper.pk, product_id=second.pk)
    cart_services.cart_add_line(user_id=shopper.pk, product_id=first.pk, quantity=2)
    items = selectors.wishlist_get(user_id=shopper.pk).items
    assert [item.product_id for item in items] == [second.pk, first.pk]
    assert items[1].in_cart == 2 and not items[1].can_add_to_cart
    assert items[0].can_add_to_cart
