"""A declined card does not end the order (as with Stripe Checkout): the payment session stays
open for another card, the order keeps waiting with its stock and voucher use held, the payment
page says what happened in the page with a way to cancel, and My orders offers "Pay now". The
order ends only when another card pays (once), the shopper cancels, or the reservation expires.

Before, the decline cancelled the order at once while its payment page stayed open: My orders
said "Cancelled" and a second card on the same page still paid it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Product, StockMovement
from checkout.models import Reservation, Voucher, VoucherRedemption
from checkout.services import checkout_start, reservations_release_expired
from orders.models import Order, OrderEvent
from payments.models import PaymentEvent, TestPaymentSession
from tests.checkout.conftest import URLS
from tests.checkout.scenarios import CARD_DECLINED, CARD_OK, run_out

pytestmark = pytest.mark.django_db

Reason, Actor = OrderEvent.Reason, OrderEvent.Actor


def stock(product) -> int:
    return Product.objects.get(pk=product.pk).stock


def history(order: Order) -> list[tuple[str, str, str, str]]:
    return list(
        order.events.order_by("created_at", "id").values_list(
            "from_status", "to_status", "reason", "actor_kind"
        )
    )


@pytest.fixture
def declined(shopper, shopper_client, make_product):
    """A card order with a voucher whose first card was declined on the payment page."""
    Voucher.objects.create(
        code="EID10",
        kind=Voucher.Kind.PERCENT,
        value=10,
        starts_at=timezone.now() - timedelta(days=1),
        max_uses=5,
    )
    product = make_product(stock=5, price_minor=100000, name="Steel Kettle")
    order = checkout_start(
        user_id=shopper.pk, buy_now=(product.pk, 2), voucher_code="EID10", **URLS
    )
    answer = shopper_client.post(order.payment_url, {"action": "pay", "card_number": CARD_DECLINED})
    # Back to the same page (not to the success page): it says why, below.
    assert (answer.status_code, answer["Location"]) == (302, order.payment_url)
    return Order.objects.get(pk=order.pk), product


def voucher_uses() -> int:
    return Voucher.objects.get(code="EID10").uses


def test_a_decline_keeps_the_order_waiting_with_its_stock_and_voucher_held(declined):
    order, product = declined
    assert order.status == Order.Status.PENDING and order.payable
    assert Reservation.objects.get(order=order).status == Reservation.Status.ACTIVE
    assert stock(product) == 3
    assert voucher_uses() == 1
    assert TestPaymentSession.objects.get(order=order).status == "open"
    # The decline is in the history, from the payment event, with no change of status.
    assert history(order) == [
        ("", "pending", Reason.PLACED, Actor.SHOPPER),
        ("pending", "pending", Reason.PAYMENT_DECLINED, Actor.WEBHOOK),
    ]
    declined_event = order.events.get(reason=Reason.PAYMENT_DECLINED)
    assert declined_event.data["event_type"] == "payment_intent.payment_failed"
    assert declined_event.data["decline_code"] == "generic_decline"
    assert order.status_reason == ""  # no status change, so no new status message


def test_the_payment_page_says_so_in_the_page_and_offers_cancel(declined, shopper_client):
    order, _ = declined
    body = shopper_client.get(order.payment_url).content.decode()
    assert 'role="alert"' in body
    assert "Your card was declined." in body
    assert "Try another card, or cancel the order." in body
    assert 'name="card_number"' in body and 'aria-describedby="pay-error"' in body
    # "Cancel order" posts to the shop's cancel page for this order (which cancels it).
    assert f'action="{URLS["cancel_url"].replace("{ORDER_ID}", str(order.pk))}"' in body
    assert f'name="order" value="{order.pk}"' in body
    assert "Cancel order" in body
    # It stays said on a reload (a toast would be gone).
    assert "Your card was declined." in shopper_client.get(order.payment_url).content.decode()


def test_my_orders_shows_awaiting_payment_with_pay_now(declined, shopper_client):
    order, _ = declined
    body = shopper_client.get("/orders/").content.decode()
    assert "Awaiting payment" in body and "Cancelled" not in body
    assert f'href="{order.payment_url}"' in body and "Pay now" in body


def test_a_second_card_on_the_same_page_pays_it_exactly_once(declined, shopper_client):
    order, product = declined
    answer = shopper_client.post(order.payment_url, {"action": "pay", "card_number": CARD_OK})
    assert answer.status_code == 302 and "/checkout/success/" in answer["Location"]
    shopper_client.get(answer["Location"])  # the success page looks the session up too
    shopper_client.post(order.payment_url, {"action": "pay", "card_number": CARD_OK})  # again

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert stock(product) == 3
    assert StockMovement.objects.filter(reference=order.number, reason="sale").count() == 1
    assert order.events.filter(reason=Reason.PAID).count() == 1
    assert PaymentEvent.objects.filter(type="checkout.session.completed").count() == 1
    assert voucher_uses() == 1
    assert VoucherRedemption.objects.get(order=order).status == "active"
    assert order.discount_minor == 20000
    body = shopper_client.get("/orders/").content.decode()
    assert "Paid" in body and "Pay now" not in body


def test_declined_then_cancelled_gives_stock_and_voucher_back(declined, shopper_client):
    order, product = declined
    answer = shopper_client.post(
        URLS["cancel_url"].replace("{ORDER_ID}", str(order.pk)), {"order": order.pk}
    )
    assert answer.status_code == 302

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert history(order)[-1] == ("pending", "cancelled", Reason.PAYMENT_CANCELLED, Actor.SHOPPER)
    assert stock(product) == 5
    assert voucher_uses() == 0
    assert VoucherRedemption.objects.get(order=order).status == "returned"
    # The page can no longer take money, and says the order is over.
    assert TestPaymentSession.objects.get(order=order).status == "expired"
    body = shopper_client.get(order.payment_url).content.decode()
    assert "This order is cancelled. Nothing was charged." in body
    assert 'name="card_number"' not in body
    assert "Back to your cart" in body


def test_declined_then_expired_is_cancelled_by_the_job(declined, shopper_client):
    order, product = declined
    run_out(order)
    assert reservations_release_expired() == 1

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert ("pending", "cancelled", Reason.RESERVATION_EXPIRED, Actor.TASK) in history(order)
    assert stock(product) == 5
    assert voucher_uses() == 0
    listing = shopper_client.get("/orders/").content.decode()
    assert "Cancelled" in listing and "Pay now" not in listing
    page = shopper_client.get(order.payment_url).content.decode()
    assert "This order expired before it was paid" in page
    assert 'href="/cart/"' in page and 'name="card_number"' not in page


def test_a_page_past_its_expiry_takes_no_card_before_the_job_ran(declined, shopper_client):
    order, _ = declined
    run_out(order)
    assert not Order.objects.get(pk=order.pk).payable
    page = shopper_client.get(order.payment_url).content.decode()
    assert "This order expired before it was paid" in page and 'name="card_number"' not in page
    assert "Pay now" not in shopper_client.get("/orders/").content.decode()


def test_the_api_gives_the_payment_page_while_the_order_can_be_paid(declined, shopper_client):
    order, _ = declined
    [listed] = shopper_client.get("/api/orders").json()
    assert (listed["status"], listed["pay_url"]) == ("pending", order.payment_url)
    run_out(order)
    assert shopper_client.get(f"/api/orders/{order.pk}").json()["pay_url"] is None


def test_a_mistyped_number_is_said_in_the_page_and_sends_nothing(
    shopper, shopper_client, make_product
):
    order = checkout_start(user_id=shopper.pk, buy_now=(make_product(stock=3).pk, 1), **URLS)
    shopper_client.post(order.payment_url, {"action": "pay", "card_number": "1234"})
    body = shopper_client.get(order.payment_url).content.decode()
    assert 'role="alert"' in body and "Use a test card" in body
    assert not PaymentEvent.objects.exists()
    assert Order.objects.get(pk=order.pk).status == Order.Status.PENDING


def test_the_order_page_says_the_card_was_declined_and_offers_both_ways(declined, shopper_client):
    order, _ = declined
    body = shopper_client.get(f"/orders/{order.pk}/").content.decode()
    assert "The payment was declined. Try another card, or cancel the order." in body
    assert f'href="{order.payment_url}"' in body and f'action="/orders/{order.pk}/cancel/"' in body
