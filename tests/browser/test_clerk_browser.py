"""The cart flow with Clerk sign-in. ClerkJS cannot load offline, so the test injects the
``__session`` cookie Clerk would set, signed with a key generated for the test."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import User
from cart.selectors import cart_contents
from tests.accounts.clerk_helpers import ISSUER, PUBLISHABLE_KEY, keypair, session_token

pytestmark = pytest.mark.django_db(transaction=True)


def test_cart_is_keyed_to_the_clerk_user(page, live_server, settings, make_product, screenshot):
    settings.AUTH_PROVIDER = "clerk"
    settings.CLERK_JWT_KEY = keypair()[1]
    settings.CLERK_ISSUER = ISSUER
    settings.CLERK_AUTHORIZED_PARTIES = [live_server.url]
    settings.CLERK_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    product = make_product(name="Clerk Kettle", stock=4)
    # A long-lived token stands in for ClerkJS refreshing it every minute.
    token = session_token("user_browser_clerk", azp=live_server.url, exp=9_999_999_999)
    host = live_server.url.split("//", 1)[1].split(":")[0]
    page.context.add_cookies([{"name": "__session", "value": token, "domain": host, "path": "/"}])

    page.goto(product.get_absolute_url())
    page.get_by_role("button", name="Increase quantity").click()
    page.get_by_role("button", name="Add to Cart").click()
    expect(page.locator('[data-badge="cart"]')).to_contain_text("2")
    page.goto("/cart/")
    expect(page.locator("[data-line]")).to_contain_text("Clerk Kettle")
    screenshot(page, "clerk-cart")
    user = User.objects.get(clerk_user_id="user_browser_clerk")
    assert cart_contents(user_id=user.pk).lines == {product.pk: 2}

    # Without the cookie the same browser is anonymous again.
    page.context.clear_cookies(name="__session")
    page.goto("/cart/")
    expect(page).to_have_url(f"{live_server.url}/account/sign-in/?next=/cart/")
