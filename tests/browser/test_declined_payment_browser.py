"""A declined card in a real browser: the payment page says so in the page and stays ready for
another card, with a way to cancel; My orders says "Awaiting payment" with "Pay now"; a second
card pays; cancelling or the reservation running out ends the order. English and Bangla, at
desktop and phone widths, axe-clean."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from catalog.models import Product, StockMovement
from checkout.services import checkout_start, reservations_release_expired
from orders.models import Order
from tests.browser.accessibility import serious_violations
from tests.browser.test_checkout_browser import fill_delivery
from tests.checkout.scenarios import run_out

pytestmark = pytest.mark.django_db(transaction=True)

DECLINED, PAYING = "4000 0000 0000 0002", "4242 4242 4242 4242"


def stock(product) -> int:
    return Product.objects.get(pk=product.pk).stock


@pytest.fixture
def kettle(make_product):
    return make_product(name="Steel Kettle", stock=5, price_minor=150000)


@pytest.fixture
def placed(live_server, shopper, kettle):
    """A card order of two kettles, placed as the checkout page would (with this server's URLs)."""

    def place(user=shopper) -> Order:
        return checkout_start(
            user_id=user.pk,
            buy_now=(kettle.pk, 2),
            success_url=f"{live_server.url}/checkout/success/?order={{ORDER_ID}}"
            "&session_id={CHECKOUT_SESSION_ID}",
            cancel_url=f"{live_server.url}/checkout/cancel/?order={{ORDER_ID}}",
        )

    return place


def pay(page, card: str) -> None:
    page.get_by_label(re.compile("card number", re.IGNORECASE)).fill(card)
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()


@pytest.mark.parametrize("width", [1280, 390])
def test_declined_then_another_card_pays_once(page, width, shopper, sign_in, kettle, screenshot):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page.context, shopper)
    page.goto(f"/checkout/?buy_now={kettle.pk}&quantity=2")
    fill_delivery(page)
    # The button names the next step of the chosen method, and follows the radios.
    place = page.locator("[data-place-order]")
    expect(place).to_have_text("Continue to payment · ৳ 3,000")
    page.get_by_role("radio", name=re.compile("^Cash on delivery")).check()
    expect(place).to_have_text("Place order · ৳ 3,000")
    page.get_by_role("radio", name=re.compile(r"^Card \(pay now\)")).check()
    expect(place).to_have_text("Continue to payment · ৳ 3,000")
    place.click()
    expect(page).to_have_url(re.compile(r"/payments/test/cs_test_"))

    pay(page, DECLINED)
    error = page.locator("[data-pay-error]")
    expect(error).to_contain_text("Your card was declined. Try another card, or cancel the order.")
    expect(error.get_by_role("button", name="Cancel order")).to_be_visible()
    card = page.get_by_label("Another card number")
    expect(card).to_be_focused()
    expect(card).to_have_value("")
    order = Order.objects.get()
    assert order.status == Order.Status.PENDING and stock(kettle) == 3
    page.reload()  # said in the page: still there (a toast would have gone)
    expect(error).to_contain_text("Your card was declined.")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "payment-declined", full_page=True)
    assert serious_violations(page) == []

    page.goto("/orders/")
    row = page.locator(".order-row")
    expect(row.locator("[data-order-status]")).to_have_text("Awaiting payment")
    expect(row).not_to_contain_text("Cancelled")
    screenshot(page, "my-orders", full_page=True)
    assert serious_violations(page) == []
    row.get_by_role("link", name=re.compile("^Pay now")).click()
    expect(page).to_have_url(re.compile(r"/payments/test/cs_test_"))

    pay(page, PAYING)
    expect(page.locator("[data-order-status]")).to_have_text("Paid")
    assert stock(kettle) == 3
    assert StockMovement.objects.filter(reference=order.number, reason="sale").count() == 1
    page.goto("/orders/")
    expect(page.locator(".order-row [data-order-status]")).to_have_text("Paid")
    expect(page.get_by_role("link", name=re.compile("^Pay now"))).to_have_count(0)


@pytest.mark.parametrize("width", [1280, 390])
def test_declined_in_bangla_then_cancelled_from_the_payment_page(
    page, width, shopper, sign_in, kettle, placed, screenshot
):
    shopper.language = "bn"
    shopper.save(update_fields=["language"])
    order = placed()
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page.context, shopper)
    page.goto(order.payment_url)
    expect(page.locator("html")).to_have_attribute("lang", "bn")
    page.locator("#card-number").fill(DECLINED)
    page.locator('button[value="pay"]').click()
    error = page.locator("[data-pay-error]")
    expect(error).to_contain_text("আপনার কার্ডটি প্রত্যাখ্যাত হয়েছে।")
    expect(error).to_contain_text("অন্য একটি কার্ড দিয়ে চেষ্টা করুন, অথবা অর্ডারটি বাতিল করুন।")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "payment-declined-bn", full_page=True)
    assert serious_violations(page) == []

    page.goto("/orders/")
    row = page.locator(".order-row")
    expect(row.locator("[data-order-status]")).to_have_text("পেমেন্টের অপেক্ষায়")
    expect(row.get_by_role("link", name=re.compile("^এখনই পেমেন্ট করুন"))).to_be_visible()
    screenshot(page, "my-orders-bn", full_page=True)
    assert serious_violations(page) == []

    page.goto(order.payment_url)
    error.get_by_role("button", name="অর্ডার বাতিল করুন").click()
    expect(page).to_have_url(re.compile(re.escape(kettle.get_absolute_url()) + "$"))  # Buy Now
    assert Order.objects.get().status == Order.Status.CANCELLED
    assert stock(kettle) == 5
    page.goto("/orders/")
    expect(page.locator(".order-row [data-order-status]")).to_have_text("বাতিল")


def test_declined_then_expired_says_so_and_leads_back_to_the_cart(
    page, shopper, sign_in, kettle, placed, screenshot
):
    order = placed()
    sign_in(page.context, shopper)
    page.goto(order.payment_url)
    pay(page, DECLINED)
    expect(page.locator("[data-pay-error]")).to_be_visible()
    run_out(order)
    assert reservations_release_expired() == 1  # the periodic job
    assert stock(kettle) == 5

    page.reload()
    expect(page.locator('[data-pay-state="expired"]')).to_contain_text(
        "This order expired before it was paid"
    )
    expect(page.get_by_label(re.compile("card number", re.IGNORECASE))).to_have_count(0)
    screenshot(page, "payment-expired")
    assert serious_violations(page) == []
    page.get_by_role("link", name="Back to your cart").click()
    expect(page).to_have_url(re.compile(r"/cart/$"))
    page.goto("/orders/")
    expect(page.locator(".order-row [data-order-status]")).to_have_text("Cancelled")
    expect(page.get_by_role("link", name=re.compile("^Pay now"))).to_have_count(0)
