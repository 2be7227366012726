"""The Content-Security-Policy is enforced and nothing on the main pages breaks it: every page
loads with JavaScript working and no violation reported, Swagger UI renders from Haat's own
static files, and with JavaScript off the same pages still render. (The ``page`` fixture fails a
test on any violation; the first test shows it notices one.)"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from cart.services import cart_add_line
from tests.browser.conftest import is_csp_violation
from wishlist.services import wishlist_toggle

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def kettle(make_product):
    return make_product(name="Steel Kettle", stock=5, price_minor=150000)


def test_the_policy_is_enforced_and_a_violation_is_noticed(page, kettle):
    response = page.goto("/")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self' 'nonce-" in policy
    # An inline script without the page's nonce is refused, and the refusal is reported.
    with page.expect_console_message(lambda message: is_csp_violation(message.text)):
        page.evaluate(
            """() => { const s = document.createElement("script");
                      s.textContent = "window.haatInjected = true"; document.body.append(s); }"""
        )
    expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))  # the nonced one ran
    assert page.evaluate("() => window.haatInjected") is None
    assert page.csp_violations, "the injected inline script was not reported"
    page.csp_violations.clear()  # the fixture fails on any violation; this one was on purpose


def test_shopper_pages_load_without_violations(page, kettle, shopper, sign_in):
    cart_add_line(user_id=shopper.pk, product_id=kettle.pk, quantity=1)
    wishlist_toggle(user_id=shopper.pk, product_id=kettle.pk)
    sign_in(page.context, shopper)
    for path in [
        "/",
        f"/c/{kettle.category.slug}/",
        "/search/?q=kettle",
        kettle.get_absolute_url(),
        "/cart/",
        "/wishlist/",
        f"/checkout/?product_ids={kettle.pk}",
        "/orders/",
        "/no-such-page/",
    ]:
        page.goto(path)
        expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))
        assert page.evaluate("() => typeof window.Haat") == "object", path
    # Haat's script works under the policy: the stepper and the heart still act.
    page.goto(kettle.get_absolute_url())
    page.get_by_role("button", name="Increase quantity").click()
    expect(page.locator("#qty")).to_have_value("2")


def test_checkout_payment_and_order_pages_load_without_violations(page, kettle, shopper, sign_in):
    cart_add_line(user_id=shopper.pk, product_id=kettle.pk, quantity=1)
    sign_in(page.context, shopper)
    page.goto(f"/checkout/?product_ids={kettle.pk}")
    page.get_by_label("Recipient's name").fill("Rina Akter")
    page.get_by_label("Mobile number").fill("01712345678")
    page.get_by_label("Address").fill("House 12, Road 5, Dhanmondi")
    page.get_by_label("City / area").fill("Dhaka")
    page.get_by_role("button", name="Continue to payment").click()
    expect(page).to_have_url(re.compile(r"/payments/test/cs_test_"))
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page).to_have_url(re.compile(r"/orders/\d+/$"))
    expect(page.locator("[data-order-status]")).to_have_text("Paid")


def test_sign_in_and_sign_up_pages_load_without_violations(page):
    for path in ["/account/sign-in/", "/account/sign-up/", "/account/password-reset/"]:
        page.goto(path)
        expect(page.locator("main form")).to_be_visible()


def test_swagger_ui_renders_from_haat_under_the_policy(page):
    page.goto("/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Haat API")
    expect(page.locator(".opblock").first).to_be_visible()
    sources = page.eval_on_selector_all(
        "script[src], link[href]", "els => els.map(e => e.src || e.href)"
    )
    assert sources and all(s.startswith(page.url.split("/api/")[0]) for s in sources), sources


def test_admin_loads_without_violations(page, kettle, make_user, sign_in):
    staff = make_user("staff@example.com", is_staff=True, is_superuser=True)
    sign_in(page.context, staff)
    for path in [
        "/admin/",
        "/admin/catalog/product/",
        f"/admin/catalog/product/{kettle.pk}/change/",
        "/admin/orders/order/",
    ]:
        page.goto(path)
        expect(page.locator("#content")).to_be_visible()


def test_pages_render_without_javascript(browser, live_server, kettle, shopper, sign_in):
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    sign_in(context, shopper)
    page = context.new_page()
    try:
        for path, text in [
            ("/", "Steel Kettle"),
            (kettle.get_absolute_url(), "Add to Cart"),
            ("/cart/", "cart"),
            ("/wishlist/", "wishlist"),
        ]:
            response = page.goto(path)
            assert response is not None and response.status == 200, path
            assert "content-security-policy" in response.headers
            expect(page.locator("main")).to_contain_text(re.compile(text, re.IGNORECASE))
    finally:
        context.close()


# ClerkJS cannot load offline: a stand-in at Clerk's Frontend API URL records what Haat asks.
CLERK_STAND_IN = """window.Clerk = {
  load: function () { return Promise.resolve(); },
  mountSignIn: function (box, options) { box.textContent = "Clerk sign-in for " + options.forceRedirectUrl; },
  mountSignUp: function (box) { box.textContent = "Clerk sign-up"; },
  signOut: function () { document.title = "signed out by Clerk"; return Promise.resolve(); }
};"""


def test_clerk_sign_in_mounts_under_the_clerk_policy(page, settings, live_server):
    from tests.accounts.clerk_helpers import ISSUER, PUBLISHABLE_KEY, keypair

    settings.AUTH_PROVIDER = "clerk"
    settings.CLERK_JWT_KEY = keypair()[1]
    settings.CLERK_ISSUER = ISSUER
    settings.CLERK_AUTHORIZED_PARTIES = [live_server.url]
    settings.CLERK_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    page.route(
        "https://clerk.haat.test/npm/**",
        lambda route: route.fulfill(
            body=CLERK_STAND_IN,
            content_type="application/javascript",
            headers={"Access-Control-Allow-Origin": "*"},
        ),
    )
    page.goto("/account/sign-in/?next=/cart/")
    expect(page.locator("#clerk-auth")).to_have_text("Clerk sign-in for /cart/")
    page.goto("/account/sign-up/")
    expect(page.locator("#clerk-auth")).to_have_text("Clerk sign-up")
