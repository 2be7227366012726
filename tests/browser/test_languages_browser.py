"""English and Bangla in a real browser: the header's switch (also without JavaScript), the
choice kept across reloads, pages and a new browser, the page's JavaScript speaking the page's
language, accessibility and screenshots of the Bangla pages at desktop and phone widths."""

from __future__ import annotations

import re

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from cart.services import cart_add_line
from catalog.demo import render_product_image
from catalog.models import ProductImage
from tests.browser.accessibility import serious_violations
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def with_image(product):
    image = ProductImage(product=product, position=0)
    image.image.save(
        f"{product.slug}.jpg", ContentFile(render_product_image(product.name, 0.08)), save=True
    )
    return product


@pytest.fixture
def shelf(make_product):
    kettle = with_image(make_product(name="Steel Kettle", stock=3, price_minor=125000))
    kettle.category.name = "রান্নাঘর"
    kettle.category.save()
    return {
        "kettle": kettle,
        "rug": with_image(make_product(name="Jute Rug", stock=40, price_minor=12500000)),
    }


def choose_bangla(page) -> None:
    page.get_by_role("button", name=re.compile("বাংলা")).click()
    expect(page.locator("html")).to_have_attribute("lang", "bn")


def test_the_switch_turns_the_shop_bangla_and_it_stays(page, shelf):
    page.goto(shelf["kettle"].get_absolute_url())
    expect(page.get_by_role("button", name="Add to Cart")).to_be_visible()
    expect(page.locator(".price-large")).to_have_text("৳ 1,250")
    choose_bangla(page)
    expect(page).to_have_url(re.compile(re.escape(shelf["kettle"].get_absolute_url()) + "$"))
    expect(page.get_by_role("button", name="কার্টে যোগ করুন")).to_be_visible()
    expect(page.get_by_role("button", name="এখনই কিনুন")).to_be_visible()
    expect(page.locator(".price-large")).to_have_text("৳ ১,২৫০")
    expect(page.locator("[data-stock-status]")).to_have_text("মাত্র ৩টি বাকি")
    page.reload()
    expect(page.get_by_role("button", name="কার্টে যোগ করুন")).to_be_visible()
    page.get_by_role("link", name="হোম", exact=True).click()
    expect(page.get_by_role("heading", name="শুধু আপনার জন্য")).to_be_visible()
    expect(page.get_by_text("৳ ১,২৫,০০০", exact=True)).to_be_visible()  # lakh grouping
    page.get_by_role("button", name=re.compile("English")).click()
    expect(page.get_by_role("heading", name="Just for you")).to_be_visible()


def test_the_switch_works_without_javascript(browser, live_server, shelf):
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    page.goto("/cart/")  # sends an anonymous shopper to sign in
    choose_bangla(page)
    expect(page.get_by_role("heading", name="সাইন ইন")).to_be_visible()
    context.close()


def test_a_signed_in_shoppers_choice_follows_them(browser, live_server, page, shopper, shelf):
    page.goto("/account/sign-in/")
    page.get_by_label("E-mail").fill(shopper.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    choose_bangla(page)
    shopper.refresh_from_db()
    assert shopper.language == "bn"

    other = browser.new_context(base_url=live_server.url, locale="en-US")
    elsewhere = other.new_page()
    elsewhere.goto("/account/sign-in/")
    expect(elsewhere.locator("html")).to_have_attribute("lang", "en")
    elsewhere.get_by_label("E-mail").fill(shopper.email)
    elsewhere.get_by_label("Password").fill(PASSWORD)
    elsewhere.get_by_role("button", name="Sign in").click()
    expect(elsewhere.locator("html")).to_have_attribute("lang", "bn")
    expect(elsewhere.get_by_role("heading", name="শুধু আপনার জন্য")).to_be_visible()
    other.close()


def test_the_pages_javascript_speaks_bangla(page, sign_in, shopper, shelf):
    sign_in(page.context, shopper)
    page.goto(shelf["kettle"].get_absolute_url())
    choose_bangla(page)
    page.get_by_role("button", name="পরিমাণ বাড়ান").click()
    page.get_by_role("button", name="কার্টে যোগ করুন").click()
    expect(page.locator("[data-toasts]")).to_contain_text("২টি কার্টে যোগ করা হয়েছে")
    expect(page.locator('[data-badge="cart"]')).to_contain_text("২")
    page.locator("[data-cart-link]").click()  # waits for the add to reach the server
    page.get_by_role("button", name="Steel Kettle-এর পরিমাণ বাড়ান").click()
    expect(page.locator("[data-selected-total]")).to_have_text("৳ ৩,৭৫০")
    page.get_by_role("button", name="Steel Kettle মুছুন").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Steel Kettle কার্ট থেকে সরাবেন?")
    dialog.get_by_role("button", name="মুছুন").click()
    expect(page.locator("[data-toasts]")).to_contain_text("কার্ট থেকে সরানো হয়েছে")


@pytest.mark.parametrize("width", [1280, 390])
def test_bangla_pages_are_accessible_and_fit(page, sign_in, shopper, shelf, screenshot, width):
    cart_add_line(user_id=shopper.pk, product_id=shelf["kettle"].pk, quantity=1)
    cart_add_line(user_id=shopper.pk, product_id=shelf["rug"].pk, quantity=2)
    sign_in(page.context, shopper)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/")
    choose_bangla(page)
    for name, url in [
        ("home", "/"),
        ("product", shelf["kettle"].get_absolute_url()),
        ("cart", "/cart/"),
    ]:
        page.goto(url)
        expect(page.locator("html")).to_have_attribute("lang", "bn")
        # Nothing sticks out sideways (longer Bangla words must wrap, not overflow).
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (name, width, overflow)
        assert serious_violations(page) == [], (name, width)
        screenshot(page, f"{name}-{width}", full_page=True)
