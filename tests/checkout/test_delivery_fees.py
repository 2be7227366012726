"""Delivery fees by zone: chosen at checkout (or following from the last order or the city),
free from the zone's threshold, worked out on the server and part of the amount charged."""

from __future__ import annotations

import re

import pytest

from cart.services import cart_add_line
from catalog.models import Product
from checkout.selectors import TotalChanged
from haat.errors import DeliveryZoneUnknown
from orders.models import DeliveryZone, Order
from payments.models import TestPaymentSession

pytestmark = pytest.mark.django_db

DELIVERY = {"name": "Rahim", "phone": "01712345678", "address": "House 1, Road 2", "city": ""}


def test_default_zone_fee_is_added_and_charged(start, shopper, make_product, delivery_zones):
    kettle = make_product(price_minor=150000)
    order = start(shopper, buy_now=(kettle.pk, 1))
    assert (order.subtotal_minor, order.delivery_fee_minor, order.discount_minor) == (
        150000,
        6000,
        0,
    )
    assert order.total_minor == 156000
    assert order.delivery_zone == "Inside Dhaka"
    # The payment page asks for the order's total, fee included.
    session = TestPaymentSession.objects.get(session_id=order.payment_session_id)
    assert session.amount_minor == 156000


def test_chosen_zone_and_free_from_its_threshold(start, shopper, make_product, delivery_zones):
    outside = delivery_zones["outside"]
    lamp = make_product(price_minor=250000)
    order = start(shopper, buy_now=(lamp.pk, 1), delivery_zone_id=outside.pk)
    assert (order.delivery_zone, order.delivery_fee_minor, order.total_minor) == (
        "Outside Dhaka",
        12000,
        262000,
    )
    # Two lamps come to ৳ 5,000: Outside Dhaka's free-from amount.
    order = start(shopper, buy_now=(lamp.pk, 2), delivery_zone_id=outside.pk)
    assert (order.delivery_fee_minor, order.total_minor) == (0, 500000)


def test_zone_follows_the_city_then_the_last_order(start, shopper, make_product, delivery_zones):
    delivery_zones["outside"].cities = "Chattogram"
    delivery_zones["outside"].save()
    item = make_product(price_minor=10000)
    first = start(shopper, buy_now=(item.pk, 1), delivery={**DELIVERY, "city": " chattogram "})
    assert first.delivery_zone == "Outside Dhaka"
    # No zone and no city: the zone of the shopper's latest order.
    second = start(shopper, buy_now=(item.pk, 1))
    assert (second.delivery_zone, second.delivery_fee_minor) == ("Outside Dhaka", 12000)


def test_unknown_or_inactive_zone_is_refused_and_nothing_reserved(
    start, shopper, make_product, delivery_zones
):
    item = make_product(stock=3)
    inactive = delivery_zones["outside"]
    inactive.is_active = False
    inactive.save()
    for zone_id in (inactive.pk, 999999):
        with pytest.raises(DeliveryZoneUnknown) as refused:
            start(shopper, buy_now=(item.pk, 1), delivery_zone_id=zone_id)
        assert refused.value.code == "delivery_zone_unknown"
    assert Order.objects.count() == 0
    assert Product.objects.get(pk=item.pk).stock == 3


def test_no_zones_means_free_delivery(start, shopper, make_product):
    assert not DeliveryZone.objects.exists()
    item = make_product(price_minor=10000)
    order = start(shopper, buy_now=(item.pk, 1))
    assert (order.delivery_fee_minor, order.total_minor, order.delivery_zone) == (0, 10000, "")


def test_total_not_shown_to_the_shopper_is_refused(start, shopper, make_product, delivery_zones):
    item = make_product(stock=3, price_minor=10000)
    with pytest.raises(TotalChanged) as refused:
        start(shopper, buy_now=(item.pk, 1), expected_total_minor=10000)
    assert refused.value.details["total_minor"] == 16000
    assert Order.objects.count() == 0
    assert Product.objects.get(pk=item.pk).stock == 3
    assert start(shopper, buy_now=(item.pk, 1), expected_total_minor=16000).total_minor == 16000


def _amount(body: str, name: str) -> str:
    found = re.search(rf'data-amount="{name}">([^<]*)<', body)
    assert found, name
    return found.group(1)


def test_checkout_page_shows_and_updates_the_fee(
    shopper_client, shopper, make_product, delivery_zones
):
    item = make_product(price_minor=100000)
    cart_add_line(user_id=shopper.pk, product_id=item.pk, quantity=1)
    body = shopper_client.get("/checkout/", {"product_ids": [item.pk]}).content.decode()
    assert (_amount(body, "delivery"), _amount(body, "total")) == ("৳ 60", "৳ 1,060")
    assert "Inside Dhaka: ৳ 60, free from ৳ 3,000" in body
    # "Update total" posts the page back with the zone picked; typed details stay.
    body = shopper_client.post(
        "/checkout/",
        {
            "product_ids": [item.pk],
            "delivery_zone": delivery_zones["outside"].pk,
            **{**DELIVERY, "city": "Sylhet"},
        },
    ).content.decode()
    assert (_amount(body, "delivery"), _amount(body, "total")) == ("৳ 120", "৳ 1,120")
    assert 'value="Sylhet"' in body and 'name="expected_total" value="112000"' in body
    assert Order.objects.count() == 0


def test_placing_with_a_stale_total_shows_the_new_one(
    shopper_client, shopper, make_product, delivery_zones
):
    item = make_product(stock=2, price_minor=100000)
    cart_add_line(user_id=shopper.pk, product_id=item.pk, quantity=1)
    response = shopper_client.post(
        "/checkout/start/",
        {
            "product_ids": [item.pk],
            "delivery_zone": delivery_zones["outside"].pk,
            "expected_total": "106000",
            **{**DELIVERY, "city": "Sylhet"},
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "The total is now ৳ 1,120" in body
    assert _amount(body, "total") == "৳ 1,120"
    assert Order.objects.count() == 0


def test_cart_summary_estimates_the_fee(shopper_client, shopper, make_product, delivery_zones):
    item = make_product(price_minor=100000)
    cart_add_line(user_id=shopper.pk, product_id=item.pk, quantity=1)
    body = shopper_client.get("/cart/").content.decode()
    assert re.search(r"<dt>Delivery \(Inside Dhaka\)</dt><dd data-selected-delivery>৳ 60<", body)
    assert "<dd data-selected-total>৳ 1,060</dd>" in body
    cart_add_line(user_id=shopper.pk, product_id=item.pk, quantity=2)  # ৳ 3,000: free
    body = shopper_client.get("/cart/").content.decode()
    assert "<dd data-selected-delivery>Free</dd>" in body
    assert "<dd data-selected-total>৳ 3,000</dd>" in body


def test_the_cart_page_estimates_from_the_latest_order_in_one_query(
    start, shopper, shopper_client, make_product, delivery_zones
):
    """The active zones and the zone of the shopper's latest order come in one query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    item = make_product(price_minor=10000)
    cart_add_line(user_id=shopper.pk, product_id=item.pk, quantity=1)
    with CaptureQueriesContext(connection) as queries:
        page = shopper_client.get("/cart/").content.decode()
    assert "Delivery (Inside Dhaka)" in page
    zone_reads = [q for q in queries.captured_queries if '"orders_deliveryzone"' in q["sql"]]
    order_reads = [q for q in queries.captured_queries if '"orders_order"' in q["sql"]]
    assert len(zone_reads) == 1 and order_reads == zone_reads
    start(shopper, buy_now=(item.pk, 1), delivery_zone_id=delivery_zones["outside"].pk)
    assert "Delivery (Outside Dhaka)" in shopper_client.get("/cart/").content.decode()
