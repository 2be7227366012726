"""The API's checkout options: delivery zones, vouchers, cash on delivery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from checkout.models import Voucher
from orders.models import Order
from tests.api_helpers import assert_error, call

pytestmark = pytest.mark.django_db


def buy(product, **extra):
    return {"buy_now": {"product_id": product.pk, "quantity": 1}, **extra}


def test_zones_list_and_chosen_zone(shopper_client, make_product, delivery_zones):
    zones = call(shopper_client, "GET", "/api/checkout/delivery-zones").json()
    assert [(z["name"], z["fee_minor"], z["free_from_minor"]) for z in zones] == [
        ("Inside Dhaka", 6000, 300000),
        ("Outside Dhaka", 12000, 500000),
    ]
    product = make_product(price_minor=100000)
    outside = delivery_zones["outside"].pk
    payload = call(
        shopper_client, "POST", "/api/checkout", buy(product, delivery_zone_id=outside)
    ).json()
    assert (payload["subtotal_minor"], payload["delivery_fee_minor"], payload["total_minor"]) == (
        100000,
        12000,
        112000,
    )
    assert payload["delivery_zone"] == "Outside Dhaka"
    detail = call(shopper_client, "GET", f"/api/orders/{payload['order_id']}").json()
    assert (detail["delivery_fee"]["amount"], detail["subtotal"]["amount"]) == (12000, 100000)
    assert detail["delivery_zone"] == "Outside Dhaka" and detail["payment_method"] == "card"
    response = call(shopper_client, "POST", "/api/checkout", buy(product, delivery_zone_id=999))
    assert_error(response, 404, "delivery_zone_unknown")


def test_voucher_applied_and_refused(shopper_client, make_product):
    Voucher.objects.create(
        code="EID10",
        kind="percent",
        value=10,
        starts_at=timezone.now() - timedelta(days=1),
        min_spend_minor=150000,
    )
    cheap, dear = make_product(price_minor=100000), make_product(price_minor=200000)
    refused = call(shopper_client, "POST", "/api/checkout", buy(cheap, voucher_code="EID10"))
    body = assert_error(refused, 409, "voucher_below_minimum")
    assert body["details"]["min_spend_minor"] == 150000
    assert_error(
        call(shopper_client, "POST", "/api/checkout", buy(cheap, voucher_code="NOPE")),
        409,
        "voucher_unknown",
    )
    payload = call(shopper_client, "POST", "/api/checkout", buy(dear, voucher_code="eid10")).json()
    assert (payload["discount_minor"], payload["total_minor"]) == (20000, 180000)


def test_cash_on_delivery(shopper_client, make_product, settings):
    product = make_product(stock=3, price_minor=100000)
    payload = call(shopper_client, "POST", "/api/checkout", buy(product, payment_method="cod"))
    payload = payload.json()
    assert (payload["status"], payload["payment_method"], payload["payment_url"]) == (
        "awaiting_delivery",
        "cod",
        "",
    )
    assert payload["expires_at"] is None
    assert Order.objects.get(pk=payload["order_id"]).payment_method == "cod"
    settings.COD_MAX_TOTAL_MINOR = 50000
    response = call(shopper_client, "POST", "/api/checkout", buy(product, payment_method="cod"))
    assert_error(response, 409, "cod_amount_limit_exceeded")
    response = call(shopper_client, "POST", "/api/checkout", buy(product, payment_method="cash"))
    assert_error(response, 400, "invalid_request")
