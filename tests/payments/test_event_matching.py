"""A signed event is applied only when it matches its order: the payment session, the order
id in its metadata, the amount and the currency. Otherwise nothing is fulfilled or released;
the event is recorded as a mismatch and flagged for staff, in the admin and on the order."""

from __future__ import annotations

import pytest
from django.test import Client

from catalog.models import Product
from checkout.services import checkout_start
from orders.models import Order
from payments.gateways.test import session_object, signed_event
from payments.models import EventOutcome, PaymentEvent, TestPaymentSession
from tests.checkout.conftest import URLS
from tests.payments.conftest import stripe_event

pytestmark = pytest.mark.django_db


def stock(product) -> int:
    return Product.objects.get(pk=product.pk).stock


@pytest.fixture
def order_and_product(shopper, make_product):
    """A ৳5,589 order holding 1 of 4 units."""
    product = make_product(stock=4, price_minor=558900, name="Rice Cooker")
    return checkout_start(user_id=shopper.pk, buy_now=(product.pk, 1), **URLS), product


def paid_session(order, **changes) -> dict:
    """The test gateway's own paid session object for ``order``, with ``changes``."""
    session = TestPaymentSession.objects.get(order=order)
    session.status, session.payment_status, session.payment_reference = "complete", "paid", "pi_1"
    obj = session_object(session)
    obj.update(changes)
    return obj


def receive(client, event_type: str, obj: dict):
    payload, header = signed_event(event_type, obj)
    return client.post(
        "/webhooks/test-gateway",
        payload,
        content_type="application/json",
        headers={"Stripe-Signature": header},
    )


def test_one_dollar_does_not_pay_a_5589_taka_order(client, order_and_product):
    order, product = order_and_product
    response = receive(
        client,
        "checkout.session.completed",
        paid_session(order, amount_total=100, currency="usd"),
    )
    assert response.status_code == 200
    assert response.json()["outcome"] == "mismatch"
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert stock(product) == 3  # still only reserved, not sold
    event = PaymentEvent.objects.get()
    assert event.outcome == EventOutcome.MISMATCH
    assert event.order_id == order.pk
    assert event.needs_attention
    assert event.mismatch == {
        "amount": {"event": 100, "order": 558900},
        "currency": {"event": "usd", "order": "BDT"},
    }


@pytest.mark.parametrize(
    ("changes", "differs"),
    [
        ({"amount_total": 558899}, {"amount"}),
        ({"amount_total": None}, {"amount"}),
        ({"currency": "inr"}, {"currency"}),
        ({"id": "cs_test_someone_elses"}, {"session_id"}),
        ({"metadata": {}}, {"order_id"}),  # found through its session, flagged there
    ],
    ids=["amount", "no amount", "currency", "session", "no order id"],
)
def test_each_difference_is_caught(client, order_and_product, changes, differs):
    order, product = order_and_product
    response = receive(client, "checkout.session.completed", paid_session(order, **changes))
    assert response.json()["outcome"] == "mismatch"
    event = PaymentEvent.objects.get()
    assert set(event.mismatch) == differs
    assert event.order_id == order.pk
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert stock(product) == 3


def test_an_event_naming_another_order_pays_neither(client, shopper, make_user, make_product):
    product = make_product(stock=5, price_minor=1000)
    mine = checkout_start(user_id=shopper.pk, buy_now=(product.pk, 1), **URLS)
    theirs = checkout_start(user_id=make_user().pk, buy_now=(product.pk, 1), **URLS)
    # My paid session, but its metadata names their order (same amount, same currency).
    obj = paid_session(mine, metadata={"order_id": str(theirs.pk)})
    assert receive(client, "checkout.session.completed", obj).json()["outcome"] == "mismatch"
    event = PaymentEvent.objects.get()
    assert event.order_id == theirs.pk and set(event.mismatch) == {"session_id"}
    assert {o.status for o in Order.objects.all()} == {Order.Status.PENDING}


def test_a_mismatching_failure_does_not_release_the_reservation(client, order_and_product):
    order, product = order_and_product
    failed = {
        "id": "pi_test_x",
        "object": "payment_intent",
        "amount": 100,
        "currency": "bdt",
        "metadata": {"order_id": str(order.pk)},
    }
    assert receive(client, "payment_intent.payment_failed", failed).json()["outcome"] == (
        "mismatch"
    )
    expired = paid_session(order, status="expired", payment_status="unpaid", currency="usd")
    assert receive(client, "checkout.session.expired", expired).json()["outcome"] == "mismatch"
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert stock(product) == 3
    assert PaymentEvent.objects.filter(needs_attention=True).count() == 2


def test_currency_is_compared_without_regard_to_case(client, order_and_product):
    order, product = order_and_product
    obj = paid_session(order, currency="BDT")
    assert receive(client, "checkout.session.completed", obj).json()["outcome"] == "fulfilled"
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert stock(product) == 3
    assert not PaymentEvent.objects.get().needs_attention


def test_the_test_gateways_events_carry_stripes_amount_fields(order_and_product):
    from payments.services import pay_with_test_card

    order, _ = order_and_product
    paid, _ = pay_with_test_card(
        session_id=order.payment_session_id, card_number="4000000000000002"
    )
    assert not paid
    declined = PaymentEvent.objects.get()
    assert (declined.type, declined.outcome) == ("payment_intent.payment_failed", "declined")
    obj = session_object(TestPaymentSession.objects.get(order=order))
    assert (obj["amount_total"], obj["currency"]) == (558900, "bdt")


def test_an_event_from_the_other_gateway_is_a_mismatch(client, settings, order_and_product):
    from tests.payments.conftest import WEBHOOK_SECRET

    order, _ = order_and_product  # a test-gateway order
    settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET = "sk_test_unused", WEBHOOK_SECRET
    payload, header = stripe_event("checkout.session.completed", paid_session(order))
    response = client.post(
        "/webhooks/stripe",
        payload,
        content_type="application/json",
        headers={"Stripe-Signature": header},
    )
    assert response.json()["outcome"] == "mismatch"
    assert set(PaymentEvent.objects.get().mismatch) == {"gateway"}
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_the_success_page_does_not_fulfil_a_mismatching_session(shopper_client, order_and_product):
    order, product = order_and_product
    TestPaymentSession.objects.filter(order=order).update(
        status="complete", payment_status="paid", payment_reference="pi_1", amount_minor=100
    )
    shopper_client.get(f"/checkout/success/?order={order.pk}&session_id=x")
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert stock(product) == 3


def test_staff_see_mismatches_on_the_event_list_and_the_order(client, make_user, order_and_product):
    order, _ = order_and_product
    receive(client, "checkout.session.completed", paid_session(order, amount_total=100))
    staff = Client()
    staff.force_login(make_user("staff@example.com", is_staff=True, is_superuser=True))
    events = staff.get("/admin/payments/paymentevent/?needs_attention__exact=1")
    assert "evt_test_" in events.content.decode()
    assert "amount: event 100, order 558900" in events.content.decode()
    flagged = staff.get("/admin/orders/order/?payment_attention=yes").content.decode()
    assert order.number in flagged and "Needs attention" in flagged
    calm = staff.get("/admin/orders/order/?payment_attention=no").content.decode()
    assert order.number not in calm
    page = staff.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "Payment events" in page and "amount: event 100, order 558900" in page

    event = PaymentEvent.objects.get()
    detail = staff.get(f"/admin/payments/paymentevent/{event.pk}/change/").content.decode()
    assert "amount: event 100, order 558900" in detail
    staff.post(
        "/admin/payments/paymentevent/",
        {"action": "mark_reviewed", "_selected_action": [event.pk]},
    )
    event.refresh_from_db()
    assert not event.needs_attention
    assert event.outcome == EventOutcome.MISMATCH  # the record itself stays as it was
    assert order.number in staff.get("/admin/orders/order/?payment_attention=no").content.decode()
