"""Expired reservations end as the gateway says: an unpaid session is expired at the gateway
before the order is cancelled; an unreachable gateway holds stock only so long; cancelled orders
whose session's time is up are asked about once more."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Product
from checkout.services import (
    payment_sessions_reconcile,
    reservations_release_expired,
)
from orders.models import Order, OrderEvent
from orders.services import BY_TASK
from payments.gateways import GatewayError
from payments.gateways.test import TestGateway
from payments.models import TestPaymentSession
from payments.services import pay_with_test_card
from tests.checkout.scenarios import CARD_DECLINED, CARD_OK, ledger, pay_and_crash, run_out, status

pytestmark = pytest.mark.django_db


def stock(product) -> int:
    return Product.objects.get(pk=product.pk).stock


@pytest.fixture
def gateway_away(monkeypatch):
    """The payment provider cannot be reached."""

    def away(self, session_id):
        raise GatewayError(reason="The payment provider is not available right now.")

    monkeypatch.setattr(TestGateway, "retrieve_session", away)
    return monkeypatch


def test_unpaid_expired_session_is_expired_at_the_gateway_and_the_order_cancelled(
    start, shopper, make_product, monkeypatch
):
    product = make_product(stock=3)
    order = start(shopper, buy_now=(product.pk, 3))
    run_out(order)

    assert reservations_release_expired() == 1

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert stock(product) == 3
    # The abandoned page can no longer take money, and the order is not asked about again.
    assert TestPaymentSession.objects.get(order=order).status == "expired"
    assert order.payment_session_closed_at is not None
    asked = []
    monkeypatch.setattr(TestGateway, "retrieve_session", lambda self, sid: asked.append(sid))
    assert payment_sessions_reconcile() == {
        "paid_found": 0,
        "expired": 0,
        "rechecked": 0,
        "recovered": 0,
    }
    assert asked == []
    assert pay_with_test_card(session_id=order.payment_session_id, card_number=CARD_OK) == (
        False,
        "This payment session is closed.",
    )


def test_unreachable_gateway_keeps_the_stock_held_until_the_grace_runs_out(
    start, make_user, make_product, gateway_away, settings
):
    settings.RESERVATION_GATEWAY_GRACE_MINUTES = 15
    shopper, other = make_user(), make_user()
    product = make_product(stock=1)
    order = start(shopper, buy_now=(product.pk, 1))
    run_out(order, minutes=5)

    assert reservations_release_expired() == 0
    assert status(order) == Order.Status.PENDING  # not cancelled blindly
    assert stock(product) == 0

    run_out(order, minutes=16)
    assert reservations_release_expired() == 1
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.status_reason == OrderEvent.Reason.RESERVATION_EXPIRED_GATEWAY_AWAY.label
    assert order.payment_session_closed_at is None  # still to be asked about
    assert stock(product) == 1
    start(other, buy_now=(product.pk, 1))  # someone else may buy it now
    assert stock(product) == 0


def test_an_order_of_a_gateway_no_longer_configured_is_released_after_the_grace(
    start, shopper, make_product, settings
):
    product = make_product(stock=1)
    order = start(shopper, buy_now=(product.pk, 1))
    Order.objects.filter(pk=order.pk).update(gateway="stripe")  # and Stripe has no keys here
    settings.STRIPE_SECRET_KEY = ""
    run_out(order, minutes=5)
    assert reservations_release_expired() == 0
    run_out(order, minutes=16)
    assert reservations_release_expired() == 1
    assert status(order) == Order.Status.CANCELLED
    assert stock(product) == 1


def test_paid_while_the_gateway_was_away_is_refunded_once_it_answers(
    start, make_user, make_product, gateway_away
):
    shopper, other = make_user(), make_user()
    product = make_product(stock=1)
    order = start(shopper, buy_now=(product.pk, 1))
    pay_and_crash(order)
    run_out(order, minutes=30)
    reservations_release_expired()
    assert status(order) == Order.Status.CANCELLED
    start(other, buy_now=(product.pk, 1))
    gateway_away.undo()  # the gateway answers again

    assert payment_sessions_reconcile()["recovered"] == 1

    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert ledger(order) == [("reservation", -1), ("release", 1)]
    assert stock(product) == 0


def test_declined_then_paid_with_the_event_lost_is_found_after_the_expiry(
    start, shopper, make_product
):
    product = make_product(stock=4)
    order = start(shopper, buy_now=(product.pk, 2))
    pay_with_test_card(session_id=order.payment_session_id, card_number=CARD_DECLINED)
    # The decline leaves the session open and the order waiting, its stock held.
    assert status(order) == Order.Status.PENDING and stock(product) == 2
    assert payment_sessions_reconcile() == {
        "paid_found": 0,
        "expired": 0,
        "rechecked": 0,
        "recovered": 0,
    }
    # The shopper pays on the retry; the paid event never arrives.
    TestPaymentSession.objects.filter(order=order).update(
        status="complete", payment_status="paid", payment_reference="pi_test_retry"
    )
    run_out(order)

    # At the expiry the job asks the gateway first, finds it paid and fulfils it.
    assert payment_sessions_reconcile() == {
        "paid_found": 0,
        "expired": 1,
        "rechecked": 0,
        "recovered": 0,
    }
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.payment_reference == "pi_test_retry"
    assert stock(product) == 2


def test_cancelled_orders_older_than_the_window_are_left_alone(
    start, shopper, make_product, settings
):
    settings.PAYMENT_RECONCILE_HOURS = 48
    order = start(shopper, buy_now=(make_product(stock=2).pk, 1))
    pay_and_crash(order)
    from checkout.services import order_cancel

    order_cancel(order_id=order.pk, reason=OrderEvent.Reason.RESERVATION_EXPIRED, by=BY_TASK)
    run_out(order)
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(hours=49))
    assert payment_sessions_reconcile()["rechecked"] == 0
    assert status(order) == Order.Status.CANCELLED
