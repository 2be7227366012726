"""Checkout in a real browser, paying on the built-in test gateway's hosted page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from cart.selectors import cart_contents
from cart.services import cart_add_line
from catalog.models import Product
from orders.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


def stock(product) -> int:
    return Product.objects.get(pk=product.pk).stock


def fill_delivery(page) -> None:
    page.get_by_label("Recipient's name").fill("Rina Akter")
    page.get_by_label("Mobile number").fill("01712345678")
    page.get_by_label("Address").fill("House 12, Road 5, Dhanmondi")
    page.get_by_label("City / area").fill("Dhaka")


@pytest.fixture
def two_in_cart(make_product, shopper):
    kettle = make_product(name="Steel Kettle", stock=5, price_minor=150000)
    mug = make_product(name="Blue Mug", stock=4, price_minor=35000)
    cart_add_line(user_id=shopper.pk, product_id=kettle.pk, quantity=2)
    cart_add_line(user_id=shopper.pk, product_id=mug.pk, quantity=1)
    return kettle, mug


def test_select_one_line_pay_and_see_the_order(page, two_in_cart, shopper, sign_in, screenshot):
    kettle, mug = two_in_cart
    sign_in(page.context, shopper)
    page.goto("/cart/")
    page.get_by_role("checkbox", name="Select Blue Mug").uncheck()
    page.get_by_role("button", name="Proceed to checkout (1)").click()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    expect(page.locator(".checkout-line")).to_have_count(1)
    expect(page.locator(".order-summary")).to_contain_text("৳ 3,000")
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.locator(".field-error")).to_have_count(4)  # nothing reserved without an address
    assert stock(kettle) == 5
    fill_delivery(page)
    screenshot(page, "review")
    page.get_by_role("button", name="Continue to payment").click()
    expect(page).to_have_url(re.compile(r"/payments/test/cs_test_"))
    assert stock(kettle) == 3  # reserved while paying
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    screenshot(page, "payment-page")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page).to_have_url(re.compile(r"/orders/\d+/$"))
    expect(page.locator("[data-order-status]")).to_have_text("Paid")
    expect(page.locator("[data-toasts]")).to_contain_text("is confirmed")
    screenshot(page, "order")
    expect(page.locator('[data-badge="cart"]')).to_contain_text("1")
    page.goto("/cart/")
    expect(page.locator("[data-line]")).to_have_count(1)
    expect(page.locator("[data-line]")).to_contain_text("Blue Mug")
    assert stock(kettle) == 3 and stock(mug) == 4
    assert cart_contents(user_id=shopper.pk).lines == {mug.pk: 1}
    page.goto("/orders/")
    expect(page.locator(".order-row")).to_contain_text("Paid")
    page.locator(".order-row a").first.click()
    expect(page.locator(".delivery-to")).to_contain_text("House 12, Road 5, Dhanmondi")


def test_declined_card_leaves_stock_and_cart_unchanged(
    page, two_in_cart, shopper, sign_in, screenshot
):
    """A declined card cancels nothing (as with Stripe Checkout): the order keeps waiting with
    its stock held, the page says why in the page, and leaving it still asks first (the
    decline, tested in full in test_declined_payment_browser.py)."""
    kettle, mug = two_in_cart
    sign_in(page.context, shopper)
    page.goto("/cart/")
    page.get_by_role("button", name="Proceed to checkout (2)").click()
    fill_delivery(page)
    page.get_by_role("button", name="Continue to payment").click()
    assert (stock(kettle), stock(mug)) == (3, 3)
    page.get_by_label("Card number").fill("4000 0000 0000 0002")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page.locator("[data-pay-error]")).to_contain_text("Your card was declined.")
    expect(page.locator(".toast-error")).to_have_count(0)
    screenshot(page, "declined")
    assert (stock(kettle), stock(mug)) == (3, 3)  # still held for another card
    assert Order.objects.get().status == Order.Status.PENDING
    assert cart_contents(user_id=shopper.pk).lines == {kettle.pk: 2, mug.pk: 1}
    page.get_by_role("button", name="Cancel and return to the shop").click()
    expect(page).to_have_url(re.compile(r"/checkout/cancel/\?order=\d+$"))
    page.get_by_role("button", name="Cancel the order").click()
    expect(page).to_have_url(re.compile(r"/cart/$"))
    expect(page.locator("[data-line]")).to_have_count(2)
    assert (stock(kettle), stock(mug)) == (5, 4)
    assert Order.objects.get().status == Order.Status.CANCELLED


def test_leaving_the_payment_page_asks_before_cancelling(
    page, two_in_cart, shopper, sign_in, screenshot
):
    kettle, mug = two_in_cart
    sign_in(page.context, shopper)
    page.goto("/cart/")
    page.get_by_role("button", name="Proceed to checkout (2)").click()
    fill_delivery(page)
    page.get_by_role("button", name="Continue to payment").click()
    expect(page).to_have_url(re.compile(r"/payments/test/cs_test_"))
    page.get_by_role("button", name="Cancel and return to the shop").click()
    expect(page).to_have_url(re.compile(r"/checkout/cancel/\?order=\d+$"))
    expect(page.get_by_role("heading", name="You left the payment page")).to_be_visible()
    screenshot(page, "cancel-choice")
    assert (stock(kettle), stock(mug)) == (3, 3)  # still held: landing here changed nothing
    assert Order.objects.get().status == Order.Status.PENDING
    page.get_by_role("link", name="Return to payment").click()
    expect(page).to_have_url(re.compile(r"/payments/test/cs_test_"))
    page.get_by_role("button", name="Cancel and return to the shop").click()
    page.get_by_role("button", name="Cancel the order").click()
    expect(page).to_have_url(re.compile(r"/cart/$"))
    expect(page.locator("[data-toasts]")).to_contain_text("Payment cancelled")
    expect(page.locator("[data-line]")).to_have_count(2)
    assert (stock(kettle), stock(mug)) == (5, 4)
    assert Order.objects.get().status == Order.Status.CANCELLED


def test_checkout_refused_when_stock_ran_out(page, two_in_cart, shopper, sign_in):
    from catalog.services import stock_adjust

    kettle, _ = two_in_cart
    sign_in(page.context, shopper)
    page.goto("/cart/")
    page.get_by_role("button", name="Proceed to checkout (2)").click()
    stock_adjust(product_id=kettle.pk, delta=-4, reason="sale")  # 1 left, 2 wanted
    fill_delivery(page)
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.locator(".toast-error")).to_contain_text("Nothing was reserved")
    expect(page.locator(".form-errors")).to_contain_text(
        "Steel Kettle: you asked for 2, only 1 left"
    )
    expect(page.get_by_role("button", name="Continue to payment")).to_be_disabled()
    assert Order.objects.count() == 0


def test_buy_now_pays_without_touching_the_cart(page, two_in_cart, shopper, sign_in):
    kettle, mug = two_in_cart
    sign_in(page.context, shopper)
    page.goto(mug.get_absolute_url())
    page.get_by_role("button", name="Buy Now").click()
    expect(page.locator(".checkout-line")).to_have_count(1)
    fill_delivery(page)
    page.get_by_role("button", name="Continue to payment").click()
    page.get_by_label("Card number").fill("4242424242424242")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page.locator("[data-order-status]")).to_have_text("Paid")
    assert stock(mug) == 3
    assert cart_contents(user_id=shopper.pk).lines == {kettle.pk: 2, mug.pk: 1}


@pytest.mark.parametrize("width", [1280, 390])
def test_payment_summary_amounts_stay_on_one_line(
    page, make_product, shopper, sign_in, screenshot, width
):
    from checkout.services import checkout_start
    from tests.checkout.conftest import URLS

    pricey = make_product(
        name="Handwoven Jamdani Saree with Gold Zari Border, Festival Edition",
        stock=5,
        price_minor=12_345_600,
    )
    order = checkout_start(user_id=shopper.pk, buy_now=(pricey.pk, 3), **URLS)
    sign_in(page.context, shopper)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(order.payment_url)
    amounts = page.locator(".pay-lines li > span:last-child, .order-summary dd")
    expect(amounts.first).to_be_visible()
    # The lines its text is laid out on (a Range has one rectangle per line of text).
    lines_per_amount = amounts.evaluate_all(
        "(nodes) => nodes.map((node) => { const range = document.createRange();"
        " range.selectNodeContents(node);"
        " return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size; })"
    )
    # Before: "৳ 370,368" broke after the taka sign beside a long product name.
    assert lines_per_amount and set(lines_per_amount) == {1}, lines_per_amount
    screenshot(page, f"payment-summary-{width}")
