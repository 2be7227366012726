"""Order pages: a shopper sees their own orders and no one else's."""

from __future__ import annotations

import pytest
from django.test import Client

from checkout.services import checkout_start
from payments.services import pay_with_test_card
from tests.checkout.conftest import URLS

pytestmark = pytest.mark.django_db


def test_order_list_and_detail(shopper_client, shopper, make_product):
    product = make_product(stock=5, name="Clay Pot")
    order = checkout_start(user_id=shopper.pk, buy_now=(product.pk, 2), **URLS)
    pending = shopper_client.get("/orders/").content.decode()
    assert order.number in pending and "Awaiting payment" in pending
    pay_with_test_card(session_id=order.payment_session_id, card_number="4242424242424242")
    detail = shopper_client.get(order.get_absolute_url()).content.decode()
    assert "Paid" in detail and "Clay Pot" in detail


def test_my_orders_counts_items_as_checkout_does(shopper_client, shopper, make_product):
    from cart.services import cart_add_line

    kettle, mug = make_product(stock=5), make_product(stock=5)
    cart_add_line(user_id=shopper.pk, product_id=kettle.pk, quantity=2)
    cart_add_line(user_id=shopper.pk, product_id=mug.pk, quantity=1)
    review = shopper_client.get(
        "/checkout/", {"product_ids": [kettle.pk, mug.pk]}, follow=True
    ).content.decode()
    assert "Items (3)" in review
    checkout_start(user_id=shopper.pk, product_ids=[kettle.pk, mug.pk], **URLS)
    # Before: "2 items" here (lines) against "Items (3)" at checkout (units).
    assert "3 items" in shopper_client.get("/orders/").content.decode()


def test_other_shoppers_orders_are_404(make_user, make_product):
    owner, stranger = make_user(), make_user()
    order = checkout_start(user_id=owner.pk, buy_now=(make_product(stock=5).pk, 1), **URLS)
    client = Client()
    client.force_login(stranger)
    assert client.get(order.get_absolute_url()).status_code == 404
    assert order.number not in client.get("/orders/").content.decode()
    assert client.get(f"/checkout/success/?order={order.pk}", follow=True).status_code == 200
    order.refresh_from_db()
    assert order.status == order.Status.PENDING
    page = client.get(f"/payments/test/{order.payment_session_id}/")
    assert page.status_code == 404


def test_orders_need_sign_in(client):
    assert client.get("/orders/").status_code == 302


def test_empty_orders_page(shopper_client):
    assert "No orders yet" in shopper_client.get("/orders/").content.decode()


def test_admin_lists_orders_and_reservations(client, make_user, make_product):
    admin = make_user("boss@example.com", is_staff=True, is_superuser=True)
    order = checkout_start(user_id=admin.pk, buy_now=(make_product(stock=5).pk, 1), **URLS)
    client.force_login(admin)
    for url in [
        "/admin/orders/order/",
        f"/admin/orders/order/{order.pk}/change/",
        "/admin/checkout/reservation/",
        "/admin/payments/paymentevent/",
    ]:
        assert client.get(url).status_code == 200, url


def test_reading_orders_writes_nothing_even_with_an_expired_reservation(
    shopper_client, shopper, make_product
):
    """Selectors only read: the periodic job releases expired reservations, not the page."""
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from checkout.models import Reservation

    order = checkout_start(user_id=shopper.pk, buy_now=(make_product(stock=5).pk, 2), **URLS)
    Reservation.objects.filter(order=order).update(expires_at=timezone.now() - timedelta(minutes=1))
    with CaptureQueriesContext(connection) as queries:
        assert shopper_client.get("/orders/").status_code == 200
        assert shopper_client.get(order.get_absolute_url()).status_code == 200
        assert shopper_client.get(f"/api/orders/{order.pk}").status_code == 200
    order_tables = ("orders_", "checkout_", "catalog_")
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        and any(table in q["sql"] for table in order_tables)
    ]
    assert writes == []
    assert Reservation.objects.get(order=order).status == Reservation.Status.ACTIVE
