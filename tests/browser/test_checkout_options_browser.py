"""Checkout options in a real browser: the delivery area and its fee, a voucher, at desktop and phone
widths, accessible (axe: no serious or critical violations)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cart.services import cart_add_line
from catalog.models import Product
from checkout.models import Voucher
from orders.models import Order
from tests.browser.accessibility import serious_violations

pytestmark = pytest.mark.django_db(transaction=True)


def fill_delivery(page, city: str = "Dhaka") -> None:
    page.get_by_label("Recipient's name").fill("Rina Akter")
    page.get_by_label("Mobile number").fill("01712345678")
    page.get_by_label("Address").fill("House 12, Road 5, Dhanmondi")
    page.get_by_label("City / area").fill(city)


@pytest.mark.parametrize("width", [1280, 390])
def test_delivery_area_changes_the_fee_and_the_charge(
    page, width, make_product, shopper, sign_in, delivery_zones, screenshot
):
    page.set_viewport_size({"width": width, "height": 900})
    Voucher.objects.create(
        code="EID10", kind="percent", value=10, starts_at=timezone.now() - timedelta(days=1)
    )
    lamp = make_product(name="Desk Lamp", stock=5, price_minor=100000)
    cart_add_line(user_id=shopper.pk, product_id=lamp.pk, quantity=1)
    sign_in(page.context, shopper)
    page.goto("/cart/")
    summary = page.locator(".order-summary")
    expect(summary).to_contain_text("Delivery (Inside Dhaka)")
    expect(page.locator("[data-selected-total]")).to_have_text("৳ 1,060")
    screenshot(page, "cart", full_page=True)
    assert serious_violations(page) == []
    # The estimate follows the selection: nothing selected, no delivery.
    page.get_by_role("checkbox", name="Select Desk Lamp").uncheck()
    expect(page.locator("[data-selected-delivery]")).to_have_text("Free")
    expect(page.locator("[data-selected-total]")).to_have_text("৳ 0")
    page.get_by_role("checkbox", name="Select Desk Lamp").check()
    expect(page.locator("[data-selected-total]")).to_have_text("৳ 1,060")
    page.get_by_role("button", name="Proceed to checkout (1)").click()
    expect(page.locator('[data-amount="total"]')).to_have_text("৳ 1,060")
    fill_delivery(page, city="Sylhet")
    page.get_by_role("radio", name=re.compile("^Outside Dhaka")).check()
    page.get_by_label("Voucher code").fill("NOPE")
    page.get_by_role("button", name="Apply voucher and update total").click()
    expect(page.locator("#id_voucher-errors")).to_contain_text("not one of ours")
    screenshot(page, "voucher-refused", full_page=True)
    assert serious_violations(page) == []
    page.get_by_label("Voucher code").fill("eid10")
    page.get_by_role("button", name="Apply voucher and update total").click()
    expect(page.locator('[data-amount="delivery"]')).to_have_text("৳ 120")
    expect(page.locator('[data-amount="discount"]')).to_have_text("−৳ 100")
    expect(page.locator('[data-amount="total"]')).to_have_text("৳ 1,020")
    expect(page.get_by_label("City / area")).to_have_value("Sylhet")  # typed details kept
    screenshot(page, "checkout", full_page=True)
    assert serious_violations(page) == []
    page.get_by_role("button", name="Continue to payment · ৳ 1,020").click()
    expect(page).to_have_url(re.compile(r"/payments/test/cs_test_"))
    order = Order.objects.get()
    assert (order.delivery_zone, order.delivery_fee_minor, order.total_minor) == (
        "Outside Dhaka",
        12000,
        102000,
    )
    assert Voucher.objects.get().uses == 1
    expect(page.locator(".order-summary")).to_contain_text("৳ 1,020")


@pytest.mark.parametrize("width", [1280, 390])
def test_cash_on_delivery_then_staff_mark_it_delivered(
    page, width, browser, live_server, make_product, make_user, shopper, sign_in, screenshot
):
    page.set_viewport_size({"width": width, "height": 900})
    kettle = make_product(name="Steel Kettle", stock=3, price_minor=150000)
    sign_in(page.context, shopper)
    page.goto(f"/checkout/?buy_now={kettle.pk}&quantity=1")
    fill_delivery(page)
    page.get_by_role("radio", name=re.compile("^Cash on delivery")).check()
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header would land mid-page
    screenshot(page, "checkout", full_page=True)
    assert serious_violations(page) == []
    page.get_by_role("button", name=re.compile("^Place order")).click()
    expect(page).to_have_url(re.compile(r"/orders/\d+/$"))
    expect(page.locator("[data-order-status]")).to_have_text("To be paid on delivery")
    expect(page.locator("[data-toasts]")).to_contain_text("in cash when it is delivered")
    screenshot(page, "order", full_page=True)
    assert serious_violations(page) == []
    order = Order.objects.get()
    assert (order.payment_method, Product.objects.get(pk=kettle.pk).stock) == ("cod", 2)

    staff_context = browser.new_context(
        viewport={"width": width, "height": 900}, base_url=live_server.url
    )
    staff = staff_context.new_page()
    sign_in(staff_context, make_user(is_staff=True, is_superuser=True))
    staff.goto("/admin/orders/order/")
    staff.locator(f'input[name="_selected_action"][value="{order.pk}"]').check()
    staff.locator('select[name="action"]').select_option("cod_delivered")
    staff.get_by_role("button", name="Run").click()
    expect(staff.locator(".messagelist")).to_contain_text("1 order(s) marked delivered and paid")
    staff_context.close()
    page.reload()
    expect(page.locator("[data-order-status]")).to_have_text("Paid")
    expect(page.locator(".order-timeline, ol").last).to_contain_text("Delivered and paid in cash.")
