"""Save for later (cart → wishlist), Move to Cart (wishlist → cart), back-in-stock alerts and
price drops in a real browser: optimistic updates reconciled with the server, refusals rolled
back, JavaScript off, English and Bangla, accessibility and screenshots at 1280 and 390 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cart.selectors import cart_contents
from cart.services import cart_add_line
from catalog.models import Product, StockMovement
from catalog.services import stock_adjust
from tests.browser.accessibility import serious_violations
from tests.browser.test_cart_wishlist_browser import with_image
from tests.browser.waits import settle
from wishlist.selectors import wishlist_contents, wishlist_get
from wishlist.services import wishlist_alert_set, wishlist_toggle

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shelf(make_product):
    return {
        "kettle": with_image(make_product(name="Steel Kettle", stock=10, price_minor=150000)),
        "mug": with_image(make_product(name="Blue Mug", stock=3, price_minor=35000)),
        "sold_out": with_image(make_product(name="Sold Out Fan", stock=0, price_minor=250000)),
    }


def bangla(page, live_server) -> None:
    host = live_server.url.split("//", 1)[1].split(":")[0]
    page.context.add_cookies(
        [{"name": "haat_language", "value": "bn", "domain": host, "path": "/"}]
    )


def _state(user):
    return (
        cart_contents(user_id=user.pk).lines,
        wishlist_contents(user_id=user.pk).product_ids,
    )


@pytest.mark.parametrize(
    ("language", "button", "toast"),
    [
        ("en", "Move Blue Mug to wishlist", "Moved Blue Mug to your wishlist"),
        ("bn", "Blue Mug উইশলিস্টে নিন", "Blue Mug আপনার উইশলিস্টে রাখা হয়েছে"),
    ],
)
def test_save_for_later_from_the_cart(
    page, live_server, sign_in, shopper, shelf, language, button, toast
):
    cart_add_line(user_id=shopper.pk, product_id=shelf["kettle"].pk, quantity=1)
    cart_add_line(user_id=shopper.pk, product_id=shelf["mug"].pk, quantity=2)
    sign_in(page.context, shopper)
    if language == "bn":
        bangla(page, live_server)
    page.goto("/cart/")
    page.get_by_role("button", name=button).click()
    expect(page.locator('[data-line][data-name="Blue Mug"]')).to_have_count(0)
    expect(page.locator("[data-toasts]")).to_contain_text(toast)
    expect(page.locator('[data-badge="wishlist"]')).to_contain_text(
        "1" if language == "en" else "১"
    )
    expect(page.locator('[data-badge="cart"]')).to_contain_text("1" if language == "en" else "১")
    settle(page, lambda: _state(shopper), ({shelf["kettle"].pk: 1}, [shelf["mug"].pk]))
    # The last line saved for later leaves the cart's empty state.
    page.locator('[data-line][data-name="Steel Kettle"] [data-save-later]').click()
    expect(page.locator("#cart-body .empty-state")).to_be_visible()
    settle(page, lambda: _state(shopper), ({}, [shelf["kettle"].pk, shelf["mug"].pk]))


def test_save_for_later_refused_brings_the_line_back(page, sign_in, shopper, shelf):
    cart_add_line(user_id=shopper.pk, product_id=shelf["mug"].pk, quantity=2)
    sign_in(page.context, shopper)
    page.goto("/cart/")
    Product.objects.filter(pk=shelf["mug"].pk).update(is_published=False)  # withdrawn meanwhile
    page.get_by_role("button", name="Move Blue Mug to wishlist").click()
    expect(page.locator("[data-toasts]")).to_contain_text("This product is no longer on sale.")
    expect(page.locator('[data-line][data-name="Blue Mug"]')).to_be_visible()
    expect(page.locator('[data-badge="wishlist"]')).to_be_hidden()
    settle(page, lambda: _state(shopper), ({shelf["mug"].pk: 2}, []))


@pytest.mark.parametrize(
    ("language", "button", "toast"),
    [
        ("en", "Move Steel Kettle to cart", "Moved Steel Kettle to your cart"),
        ("bn", "Steel Kettle কার্টে নিন", "Steel Kettle আপনার কার্টে নেওয়া হয়েছে"),
    ],
)
def test_move_to_cart_from_the_wishlist(
    page, live_server, sign_in, shopper, shelf, language, button, toast
):
    for product in (shelf["sold_out"], shelf["mug"], shelf["kettle"]):
        wishlist_toggle(user_id=shopper.pk, product_id=product.pk)
    sign_in(page.context, shopper)
    if language == "bn":
        bangla(page, live_server)
    page.goto("/wishlist/")
    page.get_by_role("button", name=button).click()
    expect(page.locator('[data-wishlist-item][data-name="Steel Kettle"]')).to_have_count(0)
    expect(page.locator("[data-toasts]")).to_contain_text(toast)
    expect(page.locator('[data-badge="cart"]')).to_contain_text("1" if language == "en" else "১")
    expect(page.locator("[data-wishlist-page-count]")).to_have_text(
        "2" if language == "en" else "২"
    )
    settle(
        page,
        lambda: _state(shopper),
        ({shelf["kettle"].pk: 1}, [shelf["mug"].pk, shelf["sold_out"].pk]),
    )


def test_move_to_cart_refused_when_sold_out_meanwhile(page, sign_in, shopper, shelf):
    wishlist_toggle(user_id=shopper.pk, product_id=shelf["mug"].pk)
    sign_in(page.context, shopper)
    page.goto("/wishlist/")
    stock_adjust(product_id=shelf["mug"].pk, delta=-3, reason=StockMovement.Reason.CORRECTION)
    page.get_by_role("button", name="Move Blue Mug to cart").click()
    expect(page.locator("[data-toasts]")).to_contain_text("Blue Mug is out of stock.")
    expect(page.locator('[data-wishlist-item][data-name="Blue Mug"]')).to_be_visible()
    expect(page.locator('[data-badge="cart"]')).to_be_hidden()
    settle(page, lambda: _state(shopper), ({}, [shelf["mug"].pk]))


@pytest.mark.parametrize(
    ("language", "toggle", "toast", "badge", "count"),
    [
        (
            "en",
            "Tell me when it's back",
            "We will e-mail you when it is back in stock.",
            "Back in stock",
            "1 item you asked about is back in stock",
        ),
        (
            "bn",
            "স্টকে এলে জানান",
            "আবার স্টকে এলে আমরা আপনাকে ই-মেইল করব।",
            "আবার স্টকে",
            "আপনার জানতে চাওয়া ১টি পণ্য আবার স্টকে এসেছে",
        ),
    ],
)
def test_ask_for_an_alert_then_the_restock_mails_and_badges(
    page, live_server, sign_in, shopper, shelf, mailoutbox, language, toggle, toast, badge, count
):
    fan = shelf["sold_out"]
    wishlist_toggle(user_id=shopper.pk, product_id=fan.pk)
    shopper.language = language
    shopper.save()
    sign_in(page.context, shopper)
    if language == "bn":
        bangla(page, live_server)
    page.goto("/wishlist/")
    button = page.get_by_role("button", name=toggle)
    expect(button).to_have_attribute("aria-pressed", "false")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(page.locator("[data-toasts]")).to_contain_text(toast)
    settle(page, lambda: wishlist_get(user_id=shopper.pk).items[0].alert_wanted, True)
    # Stock comes back through the ledger; its commit queues the job (inline in tests).
    stock_adjust(product_id=fan.pk, delta=5, reason=StockMovement.Reason.RESTOCK)
    assert len(mailoutbox) == 1
    assert fan.name in mailoutbox[0].subject
    page.reload()
    item = page.locator('[data-wishlist-item][data-name="Sold Out Fan"]')
    expect(item.locator("[data-back-badge]")).to_have_text(badge)
    expect(page.locator("[data-back-count]")).to_have_text(count)
    expect(item.get_by_role("button", name=toggle)).to_have_count(0)  # in stock: no alert


def test_alert_toggle_off_again(page, sign_in, shopper, shelf):
    wishlist_toggle(user_id=shopper.pk, product_id=shelf["sold_out"].pk)
    wishlist_alert_set(user_id=shopper.pk, product_id=shelf["sold_out"].pk, wanted=True)
    sign_in(page.context, shopper)
    page.goto("/wishlist/")
    button = page.get_by_role("button", name="Tell me when it's back")
    expect(button).to_have_attribute("aria-pressed", "true")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(page.locator("[data-toasts]")).to_contain_text("You will not be told when it is back.")
    settle(page, lambda: wishlist_get(user_id=shopper.pk).items[0].alert_wanted, False)


def test_without_javascript(browser, live_server, sign_in, shopper, shelf):
    cart_add_line(user_id=shopper.pk, product_id=shelf["mug"].pk, quantity=1)
    wishlist_toggle(user_id=shopper.pk, product_id=shelf["kettle"].pk)
    wishlist_toggle(user_id=shopper.pk, product_id=shelf["sold_out"].pk)
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    sign_in(context, shopper)
    page = context.new_page()
    page.goto("/cart/")
    page.get_by_role("button", name="Move Blue Mug to wishlist").click()
    expect(page.get_by_text("Moved to your wishlist.")).to_be_visible()
    page.goto("/wishlist/")
    page.get_by_role("button", name="Move Steel Kettle to cart").click()
    expect(page.get_by_text("Moved to your cart.")).to_be_visible()
    page.get_by_role("button", name="Tell me when it's back").click()
    expect(page.get_by_text("We will e-mail you when it is back in stock.")).to_be_visible()
    expect(page.get_by_role("button", name="Tell me when it's back")).to_have_attribute(
        "aria-pressed", "true"
    )
    context.close()
    assert cart_contents(user_id=shopper.pk).lines == {shelf["kettle"].pk: 1}
    assert wishlist_contents(user_id=shopper.pk).product_ids == [
        shelf["mug"].pk,
        shelf["sold_out"].pk,
    ]
    assert wishlist_get(user_id=shopper.pk).items[1].alert_wanted


@pytest.mark.parametrize("language", ["en", "bn"])
@pytest.mark.parametrize("width", [1280, 390])
def test_pages_are_accessible_and_fit(
    page, live_server, sign_in, shopper, shelf, make_product, screenshot, width, language
):
    """The cart with its Save for later hearts; the wishlist with a price drop, a returned item
    with its badge, an item waiting for its alert and one still to ask."""
    dropped = with_image(make_product(name="Rattan Chair", stock=4, price_minor=520000))
    waiting = with_image(make_product(name="Ceiling Fan", stock=0, price_minor=310000))
    for product in (shelf["sold_out"], waiting, shelf["kettle"], dropped):
        wishlist_toggle(user_id=shopper.pk, product_id=product.pk)
    wishlist_alert_set(user_id=shopper.pk, product_id=waiting.pk, wanted=True)
    wishlist_alert_set(user_id=shopper.pk, product_id=shelf["sold_out"].pk, wanted=True)
    stock_adjust(product_id=shelf["sold_out"].pk, delta=2, reason=StockMovement.Reason.RESTOCK)
    Product.objects.filter(pk=dropped.pk).update(price_minor=449900)
    cart_add_line(user_id=shopper.pk, product_id=shelf["mug"].pk, quantity=2)
    cart_add_line(user_id=shopper.pk, product_id=shelf["kettle"].pk, quantity=1)
    sign_in(page.context, shopper)
    if language == "bn":
        bangla(page, live_server)
    page.set_viewport_size({"width": width, "height": 900})
    for name, url in [("cart", "/cart/"), ("wishlist", "/wishlist/")]:
        page.goto(url)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (name, width, overflow)
        assert serious_violations(page) == [], (name, width, language)
        screenshot(page, f"{name}-{width}-{language}", full_page=True)
    drop = "Price dropped by ৳ 701" if language == "en" else "দাম ৳ ৭০১ কমেছে"
    expect(page.locator("[data-price-drop]")).to_contain_text(drop)
