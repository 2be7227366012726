"""Sign up, sign out and sign in through the real pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_sign_up_then_sign_out_then_sign_in(page, make_product, screenshot):
    product = make_product(name="Steel Kettle")
    page.goto(product.get_absolute_url())
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Full name").fill("Rina Akter")
    page.get_by_label("E-mail").fill("rina@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    screenshot(page, "sign-up")
    page.get_by_role("button", name="Sign up").click()
    # Back on the product the shopper was looking at, signed in.
    expect(page).to_have_url(f"{page.url.split('/p/')[0]}{product.get_absolute_url()}")
    expect(page.locator("[data-toasts]")).to_contain_text("Your account is ready")
    assert User.objects.filter(email="rina@example.com").exists()

    page.locator(".account-menu summary").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()

    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("E-mail").fill("rina@example.com")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".form-errors")).to_be_visible()
    screenshot(page, "sign-in-error")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("[data-toasts]")).to_contain_text("signed in")
    expect(page.locator(".account-menu")).to_contain_text("Rina")
    screenshot(page, "signed-in")
