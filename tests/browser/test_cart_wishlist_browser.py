"""The shopper's side of the cart and wishlist in a real browser: optimistic updates, login then
resume, steppers, confirmations, two tabs, JavaScript off, phone widths, accessibility."""

from __future__ import annotations

import re

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from cart.selectors import cart_contents
from cart.services import cart_add_line
from catalog.demo import render_product_image
from catalog.models import ProductImage
from catalog.services import stock_adjust
from haat.errors import InsufficientStock, ShortItem
from tests.browser.accessibility import serious_violations
from tests.browser.waits import settle
from tests.conftest import PASSWORD
from tests.mail_links import link_in
from wishlist.selectors import wishlist_contents
from wishlist.services import wishlist_toggle

pytestmark = pytest.mark.django_db(transaction=True)


def with_image(product):
    image = ProductImage(product=product, position=0)
    image.image.save(
        f"{product.slug}.jpg", ContentFile(render_product_image(product.name, 0.08)), save=True
    )
    return product


@pytest.fixture
def shelf(make_product):
    return {
        "kettle": with_image(make_product(name="Steel Kettle", stock=10, price_minor=150000)),
        "mug": with_image(make_product(name="Blue Mug", stock=3, price_minor=35000)),
        "lamp": with_image(make_product(name="Desk Lamp", stock=6, price_minor=99000)),
        "sold_out": with_image(make_product(name="Sold Out Fan", stock=0, price_minor=250000)),
    }


def test_anonymous_add_to_cart_then_sign_in_resumes(page, shelf, shopper, screenshot):
    page.goto(shelf["kettle"].get_absolute_url())
    page.get_by_role("button", name="Increase quantity").click()
    page.get_by_role("button", name="Add to Cart").click()
    expect(page).to_have_url(re.compile(r"/account/sign-in/"))
    page.get_by_label("E-mail").fill(shopper.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(shelf["kettle"].get_absolute_url()) + "$"))
    expect(page.locator("[data-toasts]")).to_contain_text("Added 2 × Steel Kettle to your cart")
    expect(page.locator('[data-badge="cart"]')).to_contain_text("2")
    assert cart_contents(user_id=shopper.pk).lines == {shelf["kettle"].pk: 2}
    screenshot(page, "resumed")


def test_anonymous_heart_then_sign_up_resumes(page, shelf, screenshot, mailoutbox):
    page.goto(shelf["mug"].get_absolute_url())
    page.get_by_role("button", name=re.compile("wishlist")).click()
    expect(page).to_have_url(re.compile(r"/account/sign-in/"))
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("E-mail").fill("newbie@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    page.goto(link_in(mailoutbox[0], "/sign-up/confirm/"))
    page.get_by_role("button", name="Create my account").click()
    expect(page).to_have_url(re.compile(re.escape(shelf["mug"].get_absolute_url()) + "$"))
    expect(page.locator("[data-toasts]")).to_contain_text("Saved Blue Mug to your wishlist")
    expect(page.locator("[data-wishlist-toggle]")).to_have_attribute("aria-pressed", "true")
    expect(page.locator('[data-badge="wishlist"]')).to_contain_text("1")


def test_anonymous_buy_now_signs_in_and_opens_checkout(page, shelf, shopper):
    page.goto(shelf["lamp"].get_absolute_url())
    page.get_by_role("button", name="Buy Now").click()
    page.get_by_label("E-mail").fill(shopper.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/checkout/\?buy_now="))
    expect(page.locator(".checkout-line")).to_have_count(1)
    expect(page.locator(".checkout-line")).to_contain_text("Desk Lamp")
    assert cart_contents(user_id=shopper.pk).lines == {}  # Buy Now leaves the cart alone


def test_product_stepper_limits_and_add(page, shelf, shopper, sign_in, screenshot):
    cart_add_line(user_id=shopper.pk, product_id=shelf["mug"].pk, quantity=1)
    sign_in(page.context, shopper)
    page.goto(shelf["mug"].get_absolute_url())
    quantity = page.get_by_label("Quantity", exact=True)
    plus = page.get_by_role("button", name="Increase quantity")
    minus = page.get_by_role("button", name="Decrease quantity")
    hint = page.locator("[data-stepper-hint]")
    expect(hint).to_contain_text("You already have 1 in your cart")
    expect(minus).to_be_disabled()
    plus.click()
    expect(quantity).to_have_value("2")
    expect(plus).to_be_disabled()  # 3 in stock, 1 already in the cart
    page.get_by_role("button", name="Add to Cart").dblclick()  # a double click adds once
    expect(page.locator('[data-badge="cart"]')).to_contain_text("3")
    expect(hint).to_contain_text("You already have all 3 in your cart")
    expect(page.get_by_role("button", name="Add to Cart")).to_be_disabled()
    settle(page, lambda: cart_contents(user_id=shopper.pk).lines, {shelf["mug"].pk: 3})
    screenshot(page, "product-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "product-phone")
    assert serious_violations(page) == []


def test_out_of_stock_product_cannot_be_bought(page, shelf, shopper, sign_in):
    sign_in(page.context, shopper)
    page.goto(shelf["sold_out"].get_absolute_url())
    expect(page.get_by_role("button", name="Add to Cart")).to_be_disabled()
    expect(page.get_by_role("button", name="Buy Now")).to_be_disabled()


def test_heart_toggles_twice_with_animation_and_badge(page, shelf, shopper, sign_in):
    sign_in(page.context, shopper)
    page.goto(shelf["kettle"].get_absolute_url())
    heart = page.locator("[data-wishlist-toggle]")
    heart.click()
    expect(heart).to_have_attribute("aria-pressed", "true")
    expect(heart).to_have_class(re.compile("pop"))
    expect(page.locator('[data-badge="wishlist"]')).to_contain_text("1")
    expect(page.locator("[data-toasts]")).to_contain_text("Saved to your wishlist")
    heart.click()
    expect(heart).to_have_attribute("aria-pressed", "false")
    expect(page.locator("[data-toasts]")).to_contain_text("Removed from your wishlist")
    expect(page.locator('[data-badge="wishlist"]')).to_be_hidden()
    settle(page, lambda: wishlist_contents(user_id=shopper.pk).items, ())


def test_fast_heart_clicks_converge(page, shelf, shopper, sign_in):
    sign_in(page.context, shopper)
    page.goto(shelf["kettle"].get_absolute_url())
    heart = page.locator("[data-wishlist-toggle]")
    for _ in range(5):
        heart.click(delay=0)
    expect(heart).to_have_attribute("aria-pressed", "true")
    settle(page, lambda: wishlist_contents(user_id=shopper.pk).product_ids, [shelf["kettle"].pk])


def cart_with_three(shopper, shelf):
    for key, quantity in (("kettle", 2), ("mug", 1), ("lamp", 1)):
        cart_add_line(user_id=shopper.pk, product_id=shelf[key].pk, quantity=quantity)


def test_cart_select_two_of_three_and_delete_after_confirming(
    page, shelf, shopper, sign_in, screenshot
):
    cart_with_three(shopper, shelf)
    sign_in(page.context, shopper)
    page.goto("/cart/")
    expect(page.locator("[data-line]")).to_have_count(3)
    page.get_by_role("checkbox", name="Select Desk Lamp").uncheck()
    expect(page.locator("[data-proceed]")).to_contain_text("Proceed to checkout (2)")
    expect(page.locator("[data-selected-subtotal]")).to_have_text("৳ 3,350")
    page.get_by_role("button", name="Delete selected").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Delete 2 products from your cart?")
    screenshot(page, "confirm-dialog")
    dialog.get_by_role("button", name="Delete").click()
    expect(page.locator("[data-line]:visible")).to_have_count(1)
    expect(page.locator('[data-badge="cart"]')).to_contain_text("1")
    settle(page, lambda: cart_contents(user_id=shopper.pk).lines, {shelf["lamp"].pk: 1})


def test_cancel_in_the_dialog_deletes_nothing(page, shelf, shopper, sign_in):
    cart_with_three(shopper, shelf)
    sign_in(page.context, shopper)
    page.goto("/cart/")
    page.get_by_role("button", name="Delete Steel Kettle").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Delete Steel Kettle")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator("[data-line]")).to_have_count(3)
    assert len(cart_contents(user_id=shopper.pk).lines) == 3


def test_selection_survives_reload(page, shelf, shopper, sign_in):
    cart_with_three(shopper, shelf)
    sign_in(page.context, shopper)
    page.goto("/cart/")
    page.get_by_role("checkbox", name="Select Blue Mug").uncheck()
    page.reload()
    expect(page.get_by_role("checkbox", name="Select Blue Mug")).not_to_be_checked()
    expect(page.get_by_role("checkbox", name="Select Steel Kettle")).to_be_checked()
    expect(page.locator("[data-proceed]")).to_contain_text("(2)")


def test_cart_stepper_bounds_and_fast_clicks(page, shelf, shopper, sign_in):
    cart_add_line(user_id=shopper.pk, product_id=shelf["lamp"].pk, quantity=1)
    sign_in(page.context, shopper)
    page.goto("/cart/")
    plus = page.get_by_role("button", name="Increase quantity of Desk Lamp")
    minus = page.get_by_role("button", name="Decrease quantity of Desk Lamp")
    expect(minus).to_be_disabled()
    for _ in range(8):  # stock is 6
        if plus.is_enabled():
            plus.click(delay=0)
    expect(page.get_by_role("spinbutton", name="Quantity of Desk Lamp")).to_have_value("6")
    expect(plus).to_be_disabled()
    minus.click()
    minus.click()
    expect(page.get_by_role("spinbutton", name="Quantity of Desk Lamp")).to_have_value("4")
    expect(page.locator('[data-badge="cart"]')).to_contain_text("4")
    settle(page, lambda: cart_contents(user_id=shopper.pk).lines, {shelf["lamp"].pk: 4})


def test_short_line_is_flagged_and_fixed(page, shelf, shopper, sign_in, screenshot):
    cart_add_line(user_id=shopper.pk, product_id=shelf["kettle"].pk, quantity=5)
    cart_add_line(user_id=shopper.pk, product_id=shelf["mug"].pk, quantity=1)
    stock_adjust(product_id=shelf["kettle"].pk, delta=-8, reason="sale")  # 2 left
    sign_in(page.context, shopper)
    page.goto("/cart/")
    line = page.locator(f'[data-line][data-product-id="{shelf["kettle"].pk}"]')
    expect(line).to_contain_text("Only 2 left (you have 5)")
    screenshot(page, "cart-short-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "cart-short-phone", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    assert serious_violations(page) == []
    line.get_by_role("button", name="Reduce to 2").click()
    expect(line.locator("[data-line-quantity]")).to_have_value("2")
    expect(page.get_by_text("Only 2 left (you have 5)")).to_have_count(0)
    assert cart_contents(user_id=shopper.pk).lines[shelf["kettle"].pk] == 2


def test_empty_cart_has_a_friendly_state(page, shopper, sign_in):
    sign_in(page.context, shopper)
    page.goto("/cart/")
    expect(page.get_by_role("heading", name="Your cart is empty")).to_be_visible()
    expect(page.get_by_role("link", name="Continue shopping")).to_be_visible()


def test_wishlist_page(page, shelf, shopper, sign_in, screenshot):
    for key in ("sold_out", "kettle", "lamp"):
        wishlist_toggle(user_id=shopper.pk, product_id=shelf[key].pk)
    shelf["lamp"].is_published = False
    shelf["lamp"].save()
    sign_in(page.context, shopper)
    page.goto("/wishlist/")
    items = page.locator("[data-wishlist-item]")
    expect(items).to_have_count(3)
    sold_out = items.filter(has_text="Sold Out Fan")
    expect(sold_out.get_by_role("button", name="Add to Cart")).to_be_disabled()
    expect(sold_out).to_contain_text("Out of stock")
    withdrawn = items.filter(has_text="Desk Lamp")
    expect(withdrawn).to_contain_text("No longer available")
    expect(withdrawn).to_have_class(re.compile("is-unavailable"))
    expect(withdrawn.get_by_role("button", name="Add to Cart")).to_be_disabled()
    screenshot(page, "wishlist-desktop")
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "wishlist-phone", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    kettle = items.filter(has_text="Steel Kettle")
    kettle.get_by_role("button", name="Add to Cart").click()
    expect(page.locator('[data-badge="cart"]')).to_contain_text("1")
    withdrawn.get_by_role("button", name=re.compile("Remove")).click()
    expect(page.locator("[data-wishlist-item]:visible")).to_have_count(2)
    expect(page.locator('[data-badge="wishlist"]')).to_contain_text("2")
    settle(
        page,
        lambda: (
            cart_contents(user_id=shopper.pk).lines,
            shelf["lamp"].pk in wishlist_contents(user_id=shopper.pk).product_ids,
        ),
        ({shelf["kettle"].pk: 1}, False),
    )


def test_two_tabs_stay_in_step(page, shelf, shopper, sign_in):
    sign_in(page.context, shopper)
    other = page.context.new_page()
    other.goto("/cart/")
    page.goto(shelf["kettle"].get_absolute_url())
    page.get_by_role("button", name="Add to Cart").click()
    expect(page.locator('[data-badge="cart"]')).to_contain_text("1")
    # The other tab hears about it without reloading: badge and cart lines.
    expect(other.locator('[data-badge="cart"]')).to_contain_text("1")
    expect(other.locator("[data-line]")).to_have_count(1)
    page.locator("[data-wishlist-toggle]").click()
    expect(other.locator('[data-badge="wishlist"]')).to_contain_text("1")
    # A change the tab did not hear about (made elsewhere) shows when it regains focus.
    cart_add_line(user_id=shopper.pk, product_id=shelf["mug"].pk, quantity=2)
    other.bring_to_front()
    other.evaluate("window.dispatchEvent(new Event('focus'))")
    expect(other.locator('[data-badge="cart"]')).to_contain_text("3")
    expect(other.locator("[data-line]")).to_have_count(2)
    other.close()


def test_without_javascript_add_and_delete_work(
    browser, live_server, shelf, shopper, sign_in, screenshot
):
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    sign_in(context, shopper)
    page = context.new_page()
    page.goto(shelf["kettle"].get_absolute_url())
    page.get_by_label("Quantity", exact=True).fill("3")
    page.get_by_role("button", name="Add to Cart").click()
    expect(page.locator("[data-toasts]")).to_contain_text("Added 3 to your cart")
    assert cart_contents(user_id=shopper.pk).lines == {shelf["kettle"].pk: 3}
    page.goto("/cart/")
    page.get_by_role("button", name="Increase quantity of Steel Kettle").click()
    expect(page.get_by_role("spinbutton", name="Quantity of Steel Kettle")).to_have_value("4")
    page.get_by_role("button", name="Delete Steel Kettle").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Remove Steel Kettle from your cart?"
    )
    screenshot(page, "no-js-confirm")
    page.get_by_role("link", name="Cancel").click()
    assert cart_contents(user_id=shopper.pk).lines == {shelf["kettle"].pk: 4}
    page.get_by_role("button", name="Delete Steel Kettle").click()
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("heading", name="Your cart is empty")).to_be_visible()
    assert cart_contents(user_id=shopper.pk).lines == {}
    page.goto(shelf["mug"].get_absolute_url())
    page.get_by_role("button", name=re.compile("wishlist")).click()
    expect(page.locator("[data-toasts]")).to_contain_text("Saved to your wishlist")
    context.close()


def test_signed_out_meanwhile_rolls_back_with_a_toast(page, shelf, shopper, sign_in):
    sign_in(page.context, shopper)
    page.goto(shelf["kettle"].get_absolute_url())
    page.context.clear_cookies(name="sessionid")
    page.get_by_role("button", name="Add to Cart").click()
    expect(page.locator("[data-toasts]")).to_contain_text("signed out")
    expect(page.locator('[data-badge="cart"]')).to_be_hidden()


def test_stock_changed_meanwhile_rolls_back(page, shelf, shopper, sign_in):
    sign_in(page.context, shopper)
    page.goto(shelf["mug"].get_absolute_url())
    page.get_by_role("button", name="Increase quantity").click()
    page.get_by_role("button", name="Increase quantity").click()
    stock_adjust(product_id=shelf["mug"].pk, delta=-2, reason="sale")  # only 1 left now
    page.get_by_role("button", name="Add to Cart").click()
    mug = shelf["mug"]
    refusal = InsufficientStock(items=[ShortItem(mug.pk, mug.name, 3, 1)])
    expect(page.locator(".toast-error")).to_contain_text(refusal.message)
    expect(page.locator('[data-badge="cart"]')).to_be_hidden()
    expect(page.locator("[data-stock-status]")).to_have_text("Only 1 left")
    assert cart_contents(user_id=shopper.pk).lines == {}
