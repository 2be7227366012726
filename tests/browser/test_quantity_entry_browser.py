"""Typing a quantity: what is not a whole number is refused with the server's own words and
changes nothing, and quick corrections do not pile up messages over the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cart.selectors import cart_contents
from cart.services import cart_add_line
from haat.validation import quantity_message

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_fraction_on_the_product_page_is_refused_as_not_whole(page, make_product):
    product = make_product(stock=5)
    page.goto(product.get_absolute_url())
    quantity = page.get_by_label("Quantity", exact=True)
    page.get_by_role("button", name="Increase quantity").click()
    expect(quantity).to_have_value("2")
    quantity.fill("1.5")
    quantity.press("Tab")
    expect(page.locator(".toast")).to_have_text([quantity_message()])
    expect(quantity).to_have_value("2")  # back to what it was, not to 1


def test_a_fraction_on_the_cart_page_changes_nothing(page, make_product, shopper, sign_in):
    product = make_product(stock=5)
    cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=3)
    sign_in(page.context, shopper)
    page.goto("/cart/")
    line_quantity = page.locator("[data-line-quantity]")
    line_quantity.fill("1.5")
    line_quantity.press("Tab")
    expect(page.locator(".toast")).to_have_text([quantity_message()])
    expect(line_quantity).to_have_value("3")
    page.wait_for_load_state("networkidle")
    assert cart_contents(user_id=shopper.pk).lines == {product.pk: 3}


def test_quick_corrections_do_not_pile_up(page, make_product, screenshot):
    product = make_product(stock=2)
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(product.get_absolute_url())
    quantity = page.get_by_label("Quantity", exact=True)
    for typed in ["50", "9", "50", "1.5", "7", "50"]:
        quantity.fill(typed)
        quantity.press("Tab")
    toasts = page.locator(".toast")
    # Before: six messages stacked over the product image. Now at most two, none repeated.
    expect(toasts).to_have_count(2)
    texts = toasts.all_inner_texts()
    assert len(set(texts)) == len(texts), texts
    screenshot(page, "quick-corrections-phone")
