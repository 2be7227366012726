"""The cart rules, through the service functions."""

from __future__ import annotations

import pytest

from cart import selectors, services
from catalog.services import stock_adjust
from haat.errors import (
    InsufficientStock,
    InvalidQuantity,
    NotInCart,
    ProductNotFound,
    ProductUnavailable,
    ShortItem,
)

pytestmark = pytest.mark.django_db


def test_adding_twice_adds_to_the_same_line(shopper, make_product):
    product = make_product(stock=10)
    services.cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=2)
    contents = services.cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=3)
    assert contents.lines == {product.pk: 5}


def test_adding_more_than_stock_is_refused_with_what_can_still_be_added(shopper, make_product):
    product = make_product(stock=5)
    services.cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=3)
    with pytest.raises(InsufficientStock) as refusal:
        services.cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=3)
    # The line would hold 6; there are 5.
    assert refusal.value.details == {
        "items": [{"product_id": product.pk, "name": product.name, "requested": 6, "available": 5}]
    }
    assert selectors.cart_contents(user_id=shopper.pk).lines == {product.pk: 3}
    services.cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=2)
    with pytest.raises(InsufficientStock) as full:
        services.cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=1)
    assert full.value.items == [ShortItem(product.pk, product.name, 6, 5)]


def test_out_of_stock_unpublished_and_unknown_cannot_be_added(shopper, make_product):
    sold_out = make_product(stock=0)
    hidden = make_product(stock=5, is_published=False)
    with pytest.raises(InsufficientStock) as refusal:
        services.cart_add_line(user_id=shopper.pk, product_id=sold_out.pk, quantity=1)
    assert refusal.value.items == [ShortItem(sold_out.pk, sold_out.name, 1, 0)]
    assert refusal.value.message_key == "insufficient_stock.sold_out"
    with pytest.raises(ProductUnavailable):
        services.cart_add_line(user_id=shopper.pk, product_id=hidden.pk, quantity=1)
    with pytest.raises(ProductNotFound):
        services.cart_add_line(user_id=shopper.pk, product_id=10**9, quantity=1)
    assert selectors.cart_contents(user_id=shopper.pk).lines == {}


@pytest.mark.parametrize("quantity", [0, -1, 10_001, 10**20, 1.0, "2", True, None])
def test_bad_quantities_are_refused(shopper, make_product, quantity):
    product = make_product(stock=10)
    with pytest.raises(InvalidQuantity):
        services.cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=quantity)
    services.cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=1)
    with pytest.raises(InvalidQuantity):
        services.cart_set_quantity(user_id=shopper.pk, product_id=product.pk, quantity=quantity)
    assert selectors.cart_contents(user_id=shopper.pk).lines == {product.pk: 1}


def test_set_quantity_accepts_only_one_to_stock(shopper, make_product):
    product = make_product(stock=4)
    services.cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=1)
    assert services.cart_set_quantity(
        user_id=shopper.pk, product_id=product.pk, quantity=4
    ).lines == {product.pk: 4}
    with pytest.raises(InsufficientStock) as refusal:
        services.cart_set_quantity(user_id=shopper.pk, product_id=product.pk, quantity=5)
    assert refusal.value.items == [ShortItem(product.pk, product.name, 5, 4)]
    assert services.cart_set_quantity(
        user_id=shopper.pk, product_id=product.pk, quantity=1
    ).lines == {product.pk: 1}


def test_set_quantity_of_a_product_not_in_the_cart(shopper, make_product):
    product = make_product(stock=4)
    with pytest.raises(NotInCart):
        services.cart_set_quantity(user_id=shopper.pk, product_id=product.pk, quantity=1)


def test_remove_one_line(shopper, make_product):
    a, b = make_product(), make_product()
    services.cart_add_line(user_id=shopper.pk, product_id=a.pk, quantity=1)
    services.cart_add_line(user_id=shopper.pk, product_id=b.pk, quantity=1)
    assert services.cart_remove_line(user_id=shopper.pk, product_id=a.pk).lines == {b.pk: 1}
    with pytest.raises(NotInCart):
        services.cart_remove_line(user_id=shopper.pk, product_id=a.pk)


def test_remove_selected_lines_reports_the_ones_not_in_the_cart(shopper, make_product):
    a, b, c = make_product(), make_product(), make_product()
    for product in (a, b, c):
        services.cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=1)
    result = services.cart_remove_lines(user_id=shopper.pk, product_ids=[a.pk, c.pk, 999, a.pk])
    assert result.removed == [a.pk, c.pk]
    assert result.not_in_cart == [999]
    assert result.cart.lines == {b.pk: 1}


def test_short_lines_are_reported_when_stock_drops(shopper, make_product):
    product = make_product(stock=5)
    services.cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=4)
    stock_adjust(product_id=product.pk, delta=-3, reason="sale")  # someone else bought 3
    line = selectors.cart_get(user_id=shopper.pk).lines[0]
    assert (line.quantity, line.stock, line.short_by, line.available) == (4, 2, 2, True)
    # The shopper may reduce to what is left, but not add more.
    with pytest.raises(InsufficientStock) as refusal:
        services.cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=1)
    assert refusal.value.items == [ShortItem(product.pk, product.name, 5, 2)]
    services.cart_set_quantity(user_id=shopper.pk, product_id=product.pk, quantity=2)
    assert selectors.cart_get(user_id=shopper.pk).lines[0].short_by == 0


def test_unpublished_line_is_flagged_and_excluded_from_subtotal(shopper, make_product):
    kept = make_product(stock=5, price_minor=1000)
    withdrawn = make_product(stock=5, price_minor=5000)
    services.cart_add_line(user_id=shopper.pk, product_id=kept.pk, quantity=2)
    services.cart_add_line(user_id=shopper.pk, product_id=withdrawn.pk, quantity=1)
    withdrawn.is_published = False
    withdrawn.save()
    view = selectors.cart_get(user_id=shopper.pk)
    flagged = next(line for line in view.lines if line.product_id == withdrawn.pk)
    assert not flagged.available
    assert flagged.short_by == 1
    assert view.subtotal_minor == 2000
    assert view.count == 3
    with pytest.raises(ProductUnavailable):
        services.cart_set_quantity(user_id=shopper.pk, product_id=withdrawn.pk, quantity=1)
    services.cart_remove_line(user_id=shopper.pk, product_id=withdrawn.pk)


def test_bought_quantities_leave_the_cart(shopper, make_product):
    a, b = make_product(stock=9), make_product(stock=9)
    services.cart_add_line(user_id=shopper.pk, product_id=a.pk, quantity=3)
    services.cart_add_line(user_id=shopper.pk, product_id=b.pk, quantity=2)
    contents = services.cart_remove_quantities(user_id=shopper.pk, quantities={a.pk: 1, b.pk: 2})
    assert contents.lines == {a.pk: 2}


def test_versions_grow_with_every_change(shopper, make_product):
    product = make_product(stock=9)
    v1 = services.cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=1).version
    v2 = services.cart_set_quantity(user_id=shopper.pk, product_id=product.pk, quantity=3).version
    v3 = services.cart_remove_line(user_id=shopper.pk, product_id=product.pk).version
    assert v1 < v2 < v3
