"""Cash on delivery: stock taken at placement, the order waits to be paid on delivery, staff
mark it delivered and paid, returned (stock back through the ledger) or cancelled; an amount
limit; the confirmation mail as for paid orders."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cart.selectors import cart_contents
from cart.services import cart_add_line
from catalog.models import Product, StockMovement
from checkout.models import Reservation, Voucher
from checkout.selectors import CodAmountLimitExceeded
from checkout.services import orders_cod_delivered, orders_cod_returned, orders_staff_cancel
from haat.errors import InsufficientStock, PaymentMethodUnknown
from orders.models import Order, OrderMail

pytestmark = pytest.mark.django_db


def stock(product) -> int:
    return Product.objects.get(pk=product.pk).stock


def test_cod_order_takes_the_stock_and_waits_for_delivery(start, shopper, make_product):
    item = make_product(stock=5, price_minor=50000)
    other = make_product(stock=5)
    cart_add_line(user_id=shopper.pk, product_id=item.pk, quantity=2)
    cart_add_line(user_id=shopper.pk, product_id=other.pk, quantity=1)
    order = start(shopper, product_ids=[item.pk], payment_method="cod")
    assert (order.status, order.payment_method, order.payment_url) == (
        "awaiting_delivery",
        "cod",
        "",
    )
    assert order.get_status_display() == "To be paid on delivery"
    assert stock(item) == 3
    assert list(
        StockMovement.objects.filter(reference=order.number).values_list("reason", "delta")
    ) == [("sale", -2)]
    assert not Reservation.objects.filter(order=order).exists()
    assert cart_contents(user_id=shopper.pk).lines == {other.pk: 1}
    assert OrderMail.objects.filter(order=order, kind="confirmation").count() == 1
    assert list(order.events.values_list("reason", flat=True)) == ["cod_placed"]


def test_delivered_and_paid(start, shopper, make_user, make_product):
    staff = make_user(is_staff=True)
    item = make_product(stock=5)
    order = start(shopper, buy_now=(item.pk, 1), payment_method="cod")
    assert orders_cod_delivered(order_ids=[order.pk], staff_id=staff.pk) == 1
    assert orders_cod_delivered(order_ids=[order.pk], staff_id=staff.pk) == 0  # once only
    order.refresh_from_db()
    assert order.status == "paid" and order.paid_at is not None
    event = order.events.last()
    assert (event.reason, event.actor_id, event.from_status) == (
        "cod_delivered",
        staff.pk,
        "awaiting_delivery",
    )
    assert orders_cod_returned(order_ids=[order.pk], staff_id=staff.pk) == 0
    assert stock(item) == 4


def test_returned_puts_stock_back_and_gives_the_voucher_back(
    start, shopper, make_user, make_product
):
    staff = make_user(is_staff=True)
    voucher = Voucher.objects.create(
        code="COD5",
        kind="percent",
        value=5,
        starts_at=timezone.now() - timedelta(days=1),
        max_uses=1,
    )
    item = make_product(stock=5)
    order = start(shopper, buy_now=(item.pk, 2), payment_method="cod", voucher_code="COD5")
    assert Voucher.objects.get(pk=voucher.pk).uses == 1
    assert orders_cod_returned(order_ids=[order.pk], staff_id=staff.pk) == 1
    assert orders_cod_returned(order_ids=[order.pk], staff_id=staff.pk) == 0
    order.refresh_from_db()
    assert order.status == "returned"
    assert stock(item) == 5
    back = StockMovement.objects.get(reference=order.number, reason="return")
    assert (back.delta, back.actor_id) == (2, staff.pk)
    assert Voucher.objects.get(pk=voucher.pk).uses == 0


def test_staff_cancel_before_delivery(start, shopper, make_user, make_product):
    staff = make_user(is_staff=True)
    item = make_product(stock=5)
    order = start(shopper, buy_now=(item.pk, 3), payment_method="cod")
    assert orders_staff_cancel(order_ids=[order.pk], staff_id=staff.pk) == 1
    order.refresh_from_db()
    assert (order.status, order.events.last().reason) == ("cancelled", "staff_cancelled")
    assert stock(item) == 5


def test_amount_limit(start, shopper, make_product, settings):
    settings.COD_MAX_TOTAL_MINOR = 100000
    item = make_product(stock=5, price_minor=60000)
    with pytest.raises(CodAmountLimitExceeded) as refused:
        start(shopper, buy_now=(item.pk, 2), payment_method="cod")
    assert refused.value.code == "cod_amount_limit_exceeded"
    assert refused.value.details["limit_minor"] == 100000
    assert Order.objects.count() == 0 and stock(item) == 5
    assert start(shopper, buy_now=(item.pk, 1), payment_method="cod").total_minor == 60000
    settings.COD_MAX_TOTAL_MINOR = 0  # turned off
    with pytest.raises(CodAmountLimitExceeded):
        start(shopper, buy_now=(item.pk, 1), payment_method="cod")


def test_short_stock_and_unknown_method_refused(start, shopper, make_product):
    item = make_product(stock=1)
    with pytest.raises(InsufficientStock):
        start(shopper, buy_now=(item.pk, 2), payment_method="cod")
    with pytest.raises(PaymentMethodUnknown):
        start(shopper, buy_now=(item.pk, 1), payment_method="cheque")
    assert Order.objects.count() == 0 and stock(item) == 1


def test_checkout_page_places_a_cod_order(shopper_client, shopper, make_product):
    item = make_product(stock=2, price_minor=50000)
    page = shopper_client.get("/checkout/", {"buy_now": item.pk, "quantity": 1})
    assert 'name="payment_method" value="cod"' in page.content.decode()
    response = shopper_client.post(
        "/checkout/start/",
        {
            "buy_now": item.pk,
            "quantity": 1,
            "payment_method": "cod",
            "expected_total": "50000",
            "name": "Rahim",
            "phone": "01712345678",
            "address": "House 1, Road 2",
            "city": "Dhaka",
        },
        follow=True,
    )
    order = Order.objects.get()
    assert response.redirect_chain[-1][0] == f"/orders/{order.pk}/"
    body = response.content.decode()
    assert "To be paid on delivery" in body and "in cash" in body
    assert stock(item) == 1
