"""Production ships haat.js minified (haat.staticfiles). The browser tests load the readable
source, so this one swaps in the minified script and walks the main paths with it: product
stepper and Add to Cart, the heart, the cart page's stepper and removal."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from cart.selectors import cart_contents
from haat.staticfiles import minify_js
from tests.browser.waits import settle
from wishlist.selectors import wishlist_contents

pytestmark = pytest.mark.django_db(transaction=True)

SOURCE = Path(settings.BASE_DIR) / "static" / "haat" / "js" / "haat.js"


def test_the_minified_script_runs_the_shop(page, make_product, shopper, sign_in):
    minified = minify_js(SOURCE.read_text())
    served: list[str] = []

    def minified_script(route) -> None:
        served.append(route.request.url)
        route.fulfill(body=minified, content_type="text/javascript")

    page.route("**/static/haat/js/haat.js*", minified_script)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    kettle = make_product(name="Steel Kettle", stock=3)
    sign_in(page.context, shopper)
    page.goto(kettle.get_absolute_url())
    page.get_by_role("button", name="Increase quantity").click()
    page.get_by_role("button", name="Add to Cart").click()
    expect(page.locator('[data-badge="cart"]')).to_contain_text("2")
    page.get_by_role("button", name="Save Steel Kettle to wishlist").click()
    settle(page, lambda: wishlist_contents(user_id=shopper.pk).product_ids, [kettle.pk])
    page.locator("[data-cart-link]").click()
    page.get_by_role("button", name="Increase quantity of Steel Kettle").click()
    settle(page, lambda: cart_contents(user_id=shopper.pk).lines, {kettle.pk: 3})
    page.get_by_role("button", name="Delete Steel Kettle").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    settle(page, lambda: cart_contents(user_id=shopper.pk).lines, {})
    assert served, "the page did not load haat.js"
    assert errors == []
