"""Paying: fulfil exactly once, release on failure or expiry, refund when paid too late."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from cart.selectors import cart_contents
from cart.services import cart_add_line
from catalog.models import Product, StockMovement
from catalog.services import stock_adjust
from checkout.models import Reservation
from checkout.services import checkout_confirm, reservations_release_expired
from orders.models import Order
from payments.gateways.test import session_object, signed_event
from payments.models import EventOutcome, PaymentEvent, TestPaymentSession
from payments.services import expire_test_session, pay_with_test_card, webhook_receive

pytestmark = pytest.mark.django_db


def stock(product) -> int:
    return Product.objects.get(pk=product.pk).stock


def ledger_matches_stock(*products) -> bool:
    for product in products:
        total = StockMovement.objects.filter(product=product).aggregate(total=Sum("delta"))["total"]
        if total != stock(product):
            return False
    return True


def paid_event(order, event_id=None):
    session = TestPaymentSession.objects.get(session_id=order.payment_session_id)
    session.status, session.payment_status, session.payment_reference = (
        "complete",
        "paid",
        "pi_test_1",
    )
    session.save()
    payload, header = signed_event("checkout.session.completed", session_object(session))
    return payload, header


def test_paying_fulfils_and_empties_the_bought_lines(start, shopper, make_product):
    kettle, mug = make_product(stock=5), make_product(stock=5)
    cart_add_line(user_id=shopper.pk, product_id=kettle.pk, quantity=2)
    cart_add_line(user_id=shopper.pk, product_id=mug.pk, quantity=1)
    order = start(shopper, product_ids=[kettle.pk])
    paid, _ = pay_with_test_card(
        session_id=order.payment_session_id, card_number="4242 4242 4242 4242"
    )
    assert paid
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.paid_at is not None
    assert order.reservation.status == Reservation.Status.CONVERTED
    assert stock(kettle) == 3
    assert cart_contents(user_id=shopper.pk).lines == {mug.pk: 1}
    reasons = list(
        StockMovement.objects.filter(reference=order.number)
        .order_by("id")
        .values_list("reason", "delta")
    )
    assert reasons == [("reservation", -2), ("release", 2), ("sale", -2)]
    assert ledger_matches_stock(kettle, mug)


def test_buy_now_payment_leaves_the_cart_alone(start, shopper, make_product):
    product = make_product(stock=5)
    cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=2)
    order = start(shopper, buy_now=(product.pk, 1))
    pay_with_test_card(session_id=order.payment_session_id, card_number="4242424242424242")
    assert cart_contents(user_id=shopper.pk).lines == {product.pk: 2}
    assert stock(product) == 4


def test_the_same_paid_event_ten_times_changes_nothing_after_the_first(
    start, shopper, make_product
):
    product = make_product(stock=5)
    order = start(shopper, buy_now=(product.pk, 2))
    payload, header = paid_event(order)
    outcomes = [
        webhook_receive(gateway_name="test", payload=payload, signature=header) for _ in range(10)
    ]
    assert outcomes[0] == EventOutcome.FULFILLED
    assert outcomes[1:] == [EventOutcome.DUPLICATE] * 9
    # Distinct events for the same payment (retries with new ids) change nothing either.
    for _ in range(3):
        payload2, header2 = paid_event(order)
        assert (
            webhook_receive(gateway_name="test", payload=payload2, signature=header2)
            == EventOutcome.FULFILLED
        )
    assert stock(product) == 3
    assert Order.objects.count() == 1
    assert StockMovement.objects.filter(reference=order.number, reason="sale").count() == 1
    assert ledger_matches_stock(product)


def test_declined_card_keeps_the_order_waiting_with_its_stock_held(start, shopper, make_product):
    """As with Stripe Checkout, a declined card leaves the payment session open for another
    card: the order keeps waiting (before: cancelled at once while the page stayed open)."""
    product = make_product(stock=3)
    cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=2)
    order = start(shopper, product_ids=[product.pk])
    assert stock(product) == 1
    paid, message = pay_with_test_card(
        session_id=order.payment_session_id, card_number="4000 0000 0000 0002"
    )
    assert not paid and message == "Your card was declined."
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING and order.payable
    assert order.reservation.status == Reservation.Status.ACTIVE
    assert stock(product) == 1
    assert ledger_matches_stock(product)
    assert cart_contents(user_id=shopper.pk).lines == {product.pk: 2}
    session = TestPaymentSession.objects.get(order=order)
    assert (session.status, session.last_error) == ("open", "Your card was declined.")
    declined = order.events.get(reason="payment_declined")
    assert (declined.from_status, declined.to_status) == ("pending", "pending")
    assert declined.data["decline_code"] == "generic_decline"
    assert declined.data["decline_message"] == "Your card was declined."
    assert PaymentEvent.objects.get().outcome == EventOutcome.DECLINED
    paid, message = pay_with_test_card(
        session_id=order.payment_session_id, card_number="4000000000009995"
    )
    assert message == "Your card has insufficient funds."


def test_retry_after_decline_pays_if_stock_is_still_there(start, shopper, make_product):
    product = make_product(stock=3)
    order = start(shopper, buy_now=(product.pk, 2))
    pay_with_test_card(session_id=order.payment_session_id, card_number="4000000000000002")
    paid, _ = pay_with_test_card(
        session_id=order.payment_session_id, card_number="4242424242424242"
    )
    order.refresh_from_db()
    assert paid and order.status == Order.Status.PAID
    assert stock(product) == 1
    assert ledger_matches_stock(product)


def test_expired_then_paid_fulfils_when_stock_remains(start, shopper, make_product):
    product = make_product(stock=5)
    order = start(shopper, buy_now=(product.pk, 2))
    payload_paid, header_paid = paid_event(order)
    TestPaymentSession.objects.filter(session_id=order.payment_session_id).update(status="open")
    expire_test_session(session_id=order.payment_session_id)
    assert stock(product) == 5
    webhook_receive(gateway_name="test", payload=payload_paid, signature=header_paid)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert stock(product) == 3
    assert ledger_matches_stock(product)


def test_paid_then_expired_keeps_the_sale(start, shopper, make_product):
    product = make_product(stock=5)
    order = start(shopper, buy_now=(product.pk, 2))
    payload, header = paid_event(order)
    webhook_receive(gateway_name="test", payload=payload, signature=header)
    session = TestPaymentSession.objects.get(session_id=order.payment_session_id)
    expired, expired_header = signed_event("checkout.session.expired", session_object(session))
    assert (
        webhook_receive(gateway_name="test", payload=expired, signature=expired_header)
        == EventOutcome.RELEASED
    )
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert stock(product) == 3
    assert ledger_matches_stock(product)


def test_paid_after_expiry_without_stock_is_refunded(start, make_user, make_product, client):
    late, early = make_user(), make_user()
    product = make_product(stock=1)
    order = start(late, buy_now=(product.pk, 1))
    Reservation.objects.filter(order=order).update(expires_at=timezone.now() - timedelta(seconds=1))
    reservations_release_expired()
    start(early, buy_now=(product.pk, 1))  # someone else takes the last unit
    payload, header = paid_event(order)
    webhook_receive(gateway_name="test", payload=payload, signature=header)
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert order.refund_reference.startswith("re_test_")
    assert stock(product) == 0
    assert ledger_matches_stock(product)
    client.force_login(late)
    body = client.get(order.get_absolute_url()).content.decode()
    assert "refunded it in full" in body


def test_success_page_fulfils_even_if_the_event_is_late(
    start, shopper, make_product, shopper_client
):
    product = make_product(stock=5)
    order = start(shopper, buy_now=(product.pk, 2))
    TestPaymentSession.objects.filter(session_id=order.payment_session_id).update(
        status="complete", payment_status="paid", payment_reference="pi_test_late"
    )
    response = shopper_client.get(
        f"/checkout/success/?order={order.pk}&session_id={order.payment_session_id}", follow=True
    )
    assert "is confirmed" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.payment_reference == "pi_test_late"
    # The event arriving afterwards changes nothing.
    payload, header = paid_event(order)
    webhook_receive(gateway_name="test", payload=payload, signature=header)
    assert stock(product) == 3
    assert checkout_confirm(order=order).status == Order.Status.PAID


def test_success_page_of_an_unpaid_order_does_not_fulfil(
    start, shopper, make_product, shopper_client
):
    product = make_product(stock=5)
    order = start(shopper, buy_now=(product.pk, 2))
    shopper_client.get(f"/checkout/success/?order={order.pk}")
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert stock(product) == 3


def test_events_for_unknown_orders_are_recorded_and_ignored(db):
    payload, header = signed_event(
        "checkout.session.completed",
        {"id": "cs_x", "payment_status": "paid", "metadata": {"order_id": "999999"}},
    )
    assert (
        webhook_receive(gateway_name="test", payload=payload, signature=header)
        == EventOutcome.NO_ORDER
    )
    assert PaymentEvent.objects.get().outcome == EventOutcome.NO_ORDER


def test_unpaid_completion_waits_for_async_payment(start, shopper, make_product):
    product = make_product(stock=5)
    order = start(shopper, buy_now=(product.pk, 1))
    session = TestPaymentSession.objects.get(session_id=order.payment_session_id)
    payload, header = signed_event("checkout.session.completed", session_object(session))
    assert (
        webhook_receive(gateway_name="test", payload=payload, signature=header)
        == EventOutcome.WAITING
    )
    session.payment_status = "paid"
    session.save()
    payload, header = signed_event(
        "checkout.session.async_payment_succeeded", session_object(session)
    )
    webhook_receive(gateway_name="test", payload=payload, signature=header)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_stock_changes_elsewhere_do_not_disturb_a_reservation(start, shopper, make_product):
    product = make_product(stock=3)
    order = start(shopper, buy_now=(product.pk, 2))
    stock_adjust(product_id=product.pk, delta=-1, reason="damaged")  # the last free unit
    pay_with_test_card(session_id=order.payment_session_id, card_number="4242424242424242")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert stock(product) == 0
    assert ledger_matches_stock(product)
