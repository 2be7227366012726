"""What a shopper is told about stock, in a real browser, follows the server's availability: the
low-stock threshold is a setting, and the page's JavaScript shows what the server decided rather
than deciding again with a number of its own."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cart.services import cart_add_line
from wishlist.services import wishlist_toggle

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def threshold_ten(settings):
    settings.LOW_STOCK_THRESHOLD = 10


def test_product_page_keeps_the_servers_low_stock_message(page, make_product, threshold_ten):
    kettle = make_product(name="Steel Kettle", stock=8)
    page.goto(kettle.get_absolute_url())
    status = page.locator("[data-stock-status]")
    expect(status).to_have_text("Only 8 left")
    expect(status).to_have_class("stock-status stock-low_stock")
    expect(page.locator("[data-stepper-hint]")).to_have_text("Only 8 left")


def test_product_page_in_stock_above_a_lower_threshold(page, make_product, settings):
    settings.LOW_STOCK_THRESHOLD = 2
    mug = make_product(name="Blue Mug", stock=4)
    page.goto(mug.get_absolute_url())
    expect(page.locator("[data-stock-status]")).to_have_text("In stock")
    expect(page.locator("[data-stepper-hint]")).to_have_text("")


def test_adding_keeps_the_message_and_counts_what_is_left(
    page, make_product, shopper, sign_in, threshold_ten
):
    kettle = make_product(name="Steel Kettle", stock=8)
    sign_in(page.context, shopper)
    page.goto(kettle.get_absolute_url())
    page.get_by_role("button", name="Add to Cart").click()
    expect(page.locator('[data-badge="cart"]')).to_contain_text("1")
    expect(page.locator("[data-stock-status]")).to_have_text("Only 8 left")
    expect(page.locator("[data-stepper-hint]")).to_have_text(
        "You already have 1 in your cart (7 more available)"
    )


def test_cart_and_wishlist_pages_use_the_same_threshold(
    page, make_product, shopper, sign_in, threshold_ten
):
    kettle = make_product(name="Steel Kettle", stock=8)
    cart_add_line(user_id=shopper.pk, product_id=kettle.pk, quantity=1)
    wishlist_toggle(user_id=shopper.pk, product_id=kettle.pk)
    sign_in(page.context, shopper)
    page.goto("/cart/")
    expect(page.locator("[data-line]")).to_contain_text("Only 8 left")
    page.goto("/wishlist/")
    note = page.locator("[data-wishlist-item] [data-stock-note]")
    expect(note).to_have_text("Only 8 left")
    expect(note).to_have_class("stock-note stock-low_stock")


def test_a_refused_add_shows_the_servers_new_availability(
    page, make_product, shopper, sign_in, threshold_ten
):
    from catalog.services import stock_adjust

    kettle = make_product(name="Steel Kettle", stock=12)
    sign_in(page.context, shopper)
    page.goto(kettle.get_absolute_url())
    expect(page.locator("[data-stock-status]")).to_have_text("In stock")
    page.get_by_label("Quantity", exact=True).fill("9")
    stock_adjust(product_id=kettle.pk, delta=-4, reason="sale")  # 8 left: now low stock
    page.get_by_role("button", name="Add to Cart").click()
    expect(page.locator(".toast-error")).to_be_visible()
    expect(page.locator("[data-stock-status]")).to_have_text("Only 8 left")
    expect(page.locator("[data-stock-status]")).to_have_class("stock-status stock-low_stock")
