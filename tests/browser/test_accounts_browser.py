"""Sign up, sign out and sign in through the real pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.conftest import PASSWORD
from tests.mail_links import link_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_sign_up_then_sign_out_then_sign_in(page, make_product, screenshot, mailoutbox):
    product = make_product(name="Steel Kettle")
    page.goto(product.get_absolute_url())
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Full name").fill("Rina Akter")
    page.get_by_label("E-mail").fill("rina@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    screenshot(page, "sign-up")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    assert not User.objects.filter(email="rina@example.com").exists()
    screenshot(page, "check-inbox")
    page.goto(link_in(mailoutbox[0], "/sign-up/confirm/"))
    page.get_by_role("button", name="Create my account").click()
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


def test_too_many_wrong_passwords_show_the_friendly_lockout_page(page, shopper, screenshot):
    page.goto("/account/sign-in/")
    for n in range(10):
        page.get_by_label("E-mail").fill(shopper.email)
        page.get_by_label("Password").fill(f"wrong-{n}")
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Please slow down a little")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Too many sign-in attempts")
    expect(page.get_by_role("link", name="Reset your password")).to_be_visible()
    screenshot(page, "lockout")
