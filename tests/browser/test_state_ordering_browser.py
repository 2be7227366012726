"""Server answers can arrive out of order. The page's local store adopts a snapshot only when it
is not older than what it already shows (each snapshot carries the cart's and the wishlist's
version), so a late answer never puts back an older cart. Playwright holds one answer back."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cart.selectors import cart_contents
from cart.services import cart_add_line

pytestmark = pytest.mark.django_db(transaction=True)


class HeldAnswers:
    """Route handler: the first ``count`` matching requests reach the server at once, but their
    answers reach the page only when ``release`` is called."""

    def __init__(self, count: int = 1) -> None:
        self.count = count
        self.held: list[tuple] = []

    def __call__(self, route) -> None:
        if len(self.held) >= self.count:
            route.continue_()
            return
        self.held.append((route, route.fetch()))

    def wait(self, page, count: int = 1) -> None:
        for _ in range(200):  # at most 10 s
            if len(self.held) >= count:
                return
            page.wait_for_timeout(50)
        raise AssertionError(f"{count} request(s) expected, {len(self.held)} seen")

    def release(self) -> None:
        for route, response in self.held:
            route.fulfill(response=response)


def test_a_late_state_answer_does_not_undo_a_newer_add(page, make_product, shopper, sign_in):
    kettle = make_product(name="Steel Kettle", stock=10)
    sign_in(page.context, shopper)
    with page.expect_response("**/api/state"):  # the refresh every page makes when it loads
        page.goto(kettle.get_absolute_url())
    late = HeldAnswers()
    page.route("**/api/state", late)
    page.evaluate("window.dispatchEvent(new Event('focus'))")  # asks for the state: empty cart
    late.wait(page)
    with page.expect_response("**/api/cart/lines"):
        page.get_by_role("button", name="Add to Cart").click()
    badge = page.locator('[data-badge="cart"]')
    expect(badge).to_contain_text("1")
    with page.expect_event("requestfinished"):
        late.release()  # the empty cart, read before the add, arrives now
    page.wait_for_timeout(300)
    expect(badge).to_contain_text("1")
    expect(badge).to_be_visible()
    expect(page.locator("[data-stepper-hint]")).to_have_text("You already have 1 in your cart")
    assert cart_contents(user_id=shopper.pk).lines == {kettle.pk: 1}


def test_two_patches_answered_out_of_order_keep_the_newer_cart(
    page, make_product, shopper, sign_in
):
    lamp = make_product(name="Desk Lamp", stock=6)
    mug = make_product(name="Blue Mug", stock=6)
    cart_add_line(user_id=shopper.pk, product_id=lamp.pk, quantity=1)
    cart_add_line(user_id=shopper.pk, product_id=mug.pk, quantity=1)
    sign_in(page.context, shopper)
    with page.expect_response("**/api/state"):
        page.goto("/cart/")
    first = HeldAnswers()
    page.route("**/api/cart/lines/*", first)
    page.get_by_role("button", name="Increase quantity of Desk Lamp").click()
    first.wait(page)  # the lamp's PATCH has changed the cart; its answer is held
    with page.expect_response("**/api/cart/lines/*"):
        page.get_by_role("button", name="Increase quantity of Blue Mug").click()
    badge = page.locator('[data-badge="cart"]')
    expect(badge).to_contain_text("4")
    with page.expect_event("requestfinished"):
        first.release()  # the lamp's answer (mug still 1) arrives after the mug's
    page.wait_for_timeout(300)
    expect(badge).to_contain_text("4")
    expect(page.get_by_role("spinbutton", name="Quantity of Desk Lamp")).to_have_value("2")
    expect(page.get_by_role("spinbutton", name="Quantity of Blue Mug")).to_have_value("2")
    assert cart_contents(user_id=shopper.pk).lines == {lamp.pk: 2, mug.pk: 2}


def test_following_a_link_waits_for_the_change_in_flight(page, make_product, shopper, sign_in):
    """A shopper who adds to the cart and at once opens the cart sees the line: the page holds
    the link until the add has reached the server (the cart page used to be read first)."""
    kettle = make_product(name="Steel Kettle", stock=10)
    sign_in(page.context, shopper)
    with page.expect_response("**/api/state"):
        page.goto(kettle.get_absolute_url())
    held: list = []
    page.route("**/api/cart/lines", lambda route: held.append(route))
    page.get_by_role("button", name="Add to Cart").click()
    for _ in range(200):  # the add is on its way, not yet at the server
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the add was not sent"
    page.locator("[data-cart-link]").click()
    page.wait_for_timeout(400)
    assert "/cart/" not in page.url  # still here: the add has not reached the server
    with page.expect_navigation(url="**/cart/"):
        held[0].continue_()
    expect(page.get_by_role("button", name="Increase quantity of Steel Kettle")).to_be_visible()
    assert cart_contents(user_id=shopper.pk).lines == {kettle.pk: 1}
