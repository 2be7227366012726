"""A shopper browses: home, a category, search, products in and out of stock, on desktop and phone."""

from __future__ import annotations

import re

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from catalog.demo import render_product_image
from catalog.models import Category, ProductImage
from tests.browser.accessibility import serious_violations

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shelf(make_product, category):
    garden = Category.objects.create(name="Garden", slug="garden")
    products = {
        "kettle": make_product(
            name="Steel Kettle", stock=12, list_price_minor=200000, price_minor=150000
        ),
        "mug": make_product(name="Blue Mug", stock=2),
        "lamp": make_product(name="Sold Out Lamp", stock=0),
        "hose": make_product(name="Garden Hose", stock=5, category=garden),
        "hidden": make_product(name="Hidden Vase", stock=5, is_published=False),
    }
    for key, product in products.items():
        for variant in range(2):
            image = ProductImage(product=product, position=variant)
            image.image.save(
                f"{key}-{variant}.jpg",
                ContentFile(render_product_image(product.name, 0.1 * variant + 0.05, variant)),
                save=True,
            )
    return products


def test_home_category_and_search(page, shelf, screenshot):
    page.goto("/")
    expect(page.locator(".product-card")).to_have_count(4)
    expect(page.get_by_text("Hidden Vase")).to_have_count(0)
    expect(page.locator(".product-card", has_text="Sold Out Lamp")).to_contain_text("Out of stock")
    expect(page.locator(".product-card", has_text="Blue Mug")).to_contain_text("Only 2 left")
    screenshot(page, "home")

    page.locator(".category-bar").get_by_role("link", name="Garden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Garden")
    expect(page.locator(".product-card")).to_have_count(1)
    screenshot(page, "category")

    page.get_by_role("searchbox", name="Search products").fill("kettle")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("kettle")
    expect(page.locator(".product-card")).to_have_count(1)
    screenshot(page, "search")


def test_product_in_stock_stepper_stays_within_stock(page, shelf, screenshot):
    page.goto(shelf["mug"].get_absolute_url())
    quantity = page.get_by_label("Quantity", exact=True)
    minus = page.get_by_role("button", name="Decrease quantity")
    plus = page.get_by_role("button", name="Increase quantity")
    expect(quantity).to_have_value("1")
    expect(minus).to_be_disabled()
    plus.click()
    expect(quantity).to_have_value("2")
    expect(plus).to_be_disabled()
    expect(minus).to_be_enabled()
    quantity.fill("50")
    quantity.press("Tab")
    expect(quantity).to_have_value("2")
    expect(page.get_by_role("button", name="Add to Cart")).to_be_enabled()
    expect(page.get_by_role("button", name="Buy Now")).to_be_enabled()
    expect(page.locator("[data-stock-status]")).to_have_text("Only 2 left")
    screenshot(page, "product-low-stock")

    page.goto(shelf["kettle"].get_absolute_url())
    expect(page.locator(".price-large")).to_have_text("৳ 1,500")
    expect(page.locator(".was-price")).to_contain_text("৳ 2,000")
    page.get_by_role("button", name="Show image 2 of 2").click()
    expect(page.get_by_role("button", name="Show image 2 of 2")).to_have_attribute(
        "aria-pressed", "true"
    )
    screenshot(page, "product-in-stock")


def test_product_out_of_stock(page, shelf, screenshot):
    page.goto(shelf["lamp"].get_absolute_url())
    expect(page.locator("[data-stock-status]")).to_have_text("Out of stock")
    expect(page.get_by_role("button", name="Add to Cart")).to_be_disabled()
    expect(page.get_by_role("button", name="Buy Now")).to_be_disabled()
    screenshot(page, "product-out-of-stock")


def test_unpublished_product_is_not_found(page, shelf):
    response = page.goto(shelf["hidden"].get_absolute_url())
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_contain_text("couldn't find")


def test_phone_width_has_no_sideways_scrolling(page, shelf, screenshot):
    page.set_viewport_size({"width": 375, "height": 800})
    for url in ["/", shelf["kettle"].get_absolute_url(), "/account/sign-in/"]:
        page.goto(url)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{url} scrolls sideways by {overflow}px"
    page.goto(shelf["kettle"].get_absolute_url())
    expect(page.get_by_role("button", name="Add to Cart")).to_be_visible()
    screenshot(page, "product-phone")


@pytest.mark.parametrize("width", [1280, 390])
def test_listing_sort_and_filters_are_kept_in_the_url(page, shelf, screenshot, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/search/?q=e")
    page.get_by_label("Sort by").select_option(label="Price: high to low")
    page.get_by_label("Lowest price").fill("1000")
    page.get_by_label("In stock only").check()
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"sort=price_desc.*min_price=1000.*in_stock=on"))
    # In stock, ৳ 1,000 and up, dearest first: the kettle (৳ 1,500), then the ৳ 1,250 ones.
    expect(page.locator(".product-card-name")).to_have_text(
        ["Steel Kettle", "Garden Hose", "Blue Mug"]  # equal prices: the newer first
    )
    expect(page.get_by_text("Sold Out Lamp")).to_have_count(0)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the listing scrolls sideways by {overflow}px"
    assert serious_violations(page) == []
    screenshot(page, f"listing-filtered-{width}")

    # The link is shareable: opened afresh it shows the same list with the controls set.
    page.goto(page.url)
    expect(page.get_by_label("Sort by")).to_have_value("price_desc")
    expect(page.get_by_label("In stock only")).to_be_checked()
    page.get_by_role("link", name="Clear filters").click()
    expect(page.locator(".product-card")).to_have_count(4)

    page.goto(shelf["hose"].category.get_absolute_url() + "?max_price=abc")
    expect(page.get_by_role("alert")).to_contain_text("Highest price: Enter a whole number.")
    expect(page.locator(".product-card")).to_have_count(1)


def test_taka_sign_renders_with_the_shipped_font(page, shelf, screenshot):
    fonts: list[str] = []
    page.on(
        "request", lambda request: fonts.append(request.url) if ".woff2" in request.url else None
    )
    page.goto(shelf["kettle"].get_absolute_url())
    price = page.locator(".price-large")
    expect(price).to_contain_text("৳")
    loaded = page.evaluate(
        """async () => { await document.fonts.ready;
        return [...document.fonts].filter(f => f.family.includes('Haat Bengali') && f.status === 'loaded')
          .map(f => f.unicodeRange); }"""
    )
    # Only the taka sign's face is fetched on an English page, not the whole Bengali script.
    assert loaded and {r.upper() for r in loaded} == {"U+9F3"}, loaded
    # Besides it, only the four letters of the switch's "বাংলা" (their own 1 KB face).
    assert fonts and all("taka" in url or "bangla-700" in url for url in fonts), fonts
    # The loaded faces cover the sign in regular and bold (prices are bold).
    for weight in ("400", "700"):
        covered = page.evaluate(
            f"""async () => {{ await document.fonts.load('{weight} 20px "Haat Bengali"', '৳');
            return document.fonts.check('{weight} 20px "Haat Bengali"', '৳'); }}"""
        )
        assert covered, weight
    screenshot(page, "taka-sign")


def test_phone_home_shows_products_on_the_first_screen(page, shelf, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    for n in range(8):  # a real shop has many categories: their tiles must not fill the screen
        Category.objects.create(name=f"Department {n}", slug=f"department-{n}")
    page.goto("/")
    first_card = page.locator(".product-card").first
    box = first_card.bounding_box()
    assert box is not None
    # Before: the welcome banner and the category tiles filled the first screen, and the first
    # product began at its bottom edge. Now a whole product card is on it.
    assert box["y"] + box["height"] <= 844, (
        f"first product ends at {box['y'] + box['height']:.0f}px"
    )
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the home page scrolls sideways by {overflow}px"
    screenshot(page, "home-phone-first-screen")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_long_listing_draws_its_later_cards_without_moving(
    page, make_product, category, screenshot, width
):
    """Cards past the first row are laid out only when scrolled near (content-visibility): each
    still shows its name, price and picture when reached, and the page keeps its height."""
    for number in range(12):
        product = make_product(name=f"Cotton Towel {number:02d}", stock=5, category=category)
        image = ProductImage(product=product, position=0)
        image.image.save(
            f"{product.slug}.jpg", ContentFile(render_product_image(product.name, 0.1)), save=True
        )
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(category.get_absolute_url())
    cards = page.locator(".product-card")
    expect(cards).to_have_count(12)
    height_before = page.evaluate("document.documentElement.scrollHeight")
    last = cards.last
    last.scroll_into_view_if_needed()
    expect(last).to_contain_text("Cotton Towel")
    expect(last.locator("img")).to_have_js_property("complete", True)
    assert last.locator("img").evaluate("image => image.naturalWidth") > 0
    height_after = page.evaluate("document.documentElement.scrollHeight")
    # The reserved size is an estimate: the page may settle by part of a row, never by rows.
    assert abs(height_after - height_before) < 200, (height_before, height_after)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, f"long-listing-{width}", full_page=True)
