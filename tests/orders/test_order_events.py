"""Issue 13, item 6: an order keeps its history. Every status change writes one event (who or
what, when, from which status to which, why) in the same transaction; before, each change
overwrote ``Order.status_reason`` and the earlier reasons were lost."""

from __future__ import annotations

import pytest
from django.db import transaction

from catalog.models import StockMovement
from checkout.services import (
    checkout_start,
    payment_sessions_reconcile,
    reservations_release_expired,
)
from orders.models import Order, OrderEvent
from orders.services import BY_TASK, order_status_change
from payments.gateways.test import session_object, signed_event
from payments.models import EventOutcome, TestPaymentSession
from payments.services import pay_with_test_card, webhook_receive
from tests.checkout.conftest import URLS
from tests.checkout.scenarios import CARD_DECLINED, CARD_OK, ledger, pay_and_crash, run_out

pytestmark = pytest.mark.django_db

Reason, Actor = OrderEvent.Reason, OrderEvent.Actor


def history(order: Order) -> list[tuple[str, str, str, str, int | None]]:
    """(from, to, reason, by, person) of every event, oldest first."""
    return list(
        OrderEvent.objects.filter(order=order)
        .order_by("created_at", "id")
        .values_list("from_status", "to_status", "reason", "actor_kind", "actor_id")
    )


@pytest.fixture
def start():
    def run(user, **selection):
        return checkout_start(user_id=user.pk, **URLS, **selection)

    return run


@pytest.fixture
def staff_client(client, make_user):
    staff = make_user("boss@example.com", is_staff=True, is_superuser=True)
    client.force_login(staff)
    client.staff = staff
    return client


def test_declined_then_paid_after_the_stock_went_keeps_every_step_with_its_actor(
    start, make_user, make_product, monkeypatch, settings
):
    """A declined card (the order keeps waiting: an event, no status change), the gateway away
    past the grace so the job released the stock, the unit sold to someone else, then the
    retried card's payment arriving: refunded, every step with who did it."""
    from payments.gateways import GatewayError
    from payments.gateways.test import TestGateway

    settings.RESERVATION_GATEWAY_GRACE_MINUTES = 15
    late, early = make_user(), make_user()
    product = make_product(stock=1)
    order = start(late, buy_now=(product.pk, 1))
    pay_with_test_card(session_id=order.payment_session_id, card_number=CARD_DECLINED)
    run_out(order, minutes=20)
    with monkeypatch.context() as away:
        away.setattr(
            TestGateway,
            "retrieve_session",
            lambda self, sid: (_ for _ in ()).throw(GatewayError(reason="away")),
        )
        assert reservations_release_expired() == 1
    start(early, buy_now=(product.pk, 1))  # the released unit goes to someone else
    session = TestPaymentSession.objects.get(order=order)
    session.status, session.payment_status = "complete", "paid"
    session.payment_reference = "pi_test_retry"
    session.save()
    payload, header = signed_event("checkout.session.completed", session_object(session))
    webhook_receive(gateway_name="test", payload=payload, signature=header)

    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert history(order) == [
        ("", "pending", Reason.PLACED, Actor.SHOPPER, late.pk),
        ("pending", "pending", Reason.PAYMENT_DECLINED, Actor.WEBHOOK, None),
        ("pending", "cancelled", Reason.RESERVATION_EXPIRED_GATEWAY_AWAY, Actor.TASK, None),
        ("cancelled", "refund_due", Reason.PAID_TOO_LATE, Actor.WEBHOOK, None),
        ("refund_due", "refunded", Reason.REFUNDED, Actor.WEBHOOK, None),
    ]
    declined, _, paid, refunded = order.events.order_by("id")[1:]
    # Which payment event did it, and what the gateway gave back, are kept with each step.
    assert declined.data["event_type"] == "payment_intent.payment_failed"
    assert declined.data["decline_message"] == "Your card was declined."
    assert paid.data["event_type"] == "checkout.session.completed"
    assert declined.data["event_id"] != paid.data["event_id"]
    assert paid.data["payment_reference"] == order.payment_reference
    assert refunded.data["refund_reference"] == order.refund_reference
    # status_reason is the latest event's message; the decline is still known, from the log.
    assert order.status_reason == Reason.REFUNDED.label
    assert declined.message == "The payment was declined."


def test_paid_but_lost_then_expired_then_recovered_keeps_every_step(
    start, shopper, make_product, monkeypatch, settings
):
    """The gateway took the money, the worker died, the gateway was away past the grace (so
    the job cancelled), then the reconciliation found the payment: paid, by the job."""
    from payments.gateways import GatewayError
    from payments.gateways.test import TestGateway

    settings.RESERVATION_GATEWAY_GRACE_MINUTES = 15
    product = make_product(stock=3)
    order = start(shopper, buy_now=(product.pk, 2))
    pay_and_crash(order)
    run_out(order, minutes=20)
    with monkeypatch.context() as away:
        away.setattr(
            TestGateway,
            "retrieve_session",
            lambda self, sid: (_ for _ in ()).throw(GatewayError(reason="away")),
        )
        assert reservations_release_expired() == 1
    assert payment_sessions_reconcile()["recovered"] == 1

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert history(order) == [
        ("", "pending", Reason.PLACED, Actor.SHOPPER, shopper.pk),
        ("pending", "cancelled", Reason.RESERVATION_EXPIRED_GATEWAY_AWAY, Actor.TASK, None),
        ("cancelled", "paid", Reason.PAID, Actor.TASK, None),
    ]
    assert ledger(order) == [("reservation", -2), ("release", 2), ("sale", -2)]
    # Asked again: nothing changes, nothing more is written.
    payment_sessions_reconcile()
    assert len(history(order)) == 3


def test_a_replayed_webhook_writes_no_second_event(start, shopper, make_product):
    product = make_product(stock=5)
    order = start(shopper, buy_now=(product.pk, 2))
    session = TestPaymentSession.objects.get(order=order)
    session.status, session.payment_status = "complete", "paid"
    session.payment_reference = "pi_test_replayed"
    session.save()
    payload, header = signed_event("checkout.session.completed", session_object(session))

    assert webhook_receive(gateway_name="test", payload=payload, signature=header) == (
        EventOutcome.FULFILLED
    )
    assert webhook_receive(gateway_name="test", payload=payload, signature=header) == (
        EventOutcome.DUPLICATE
    )
    # Stripe also sends a second, different event for the same payment.
    again, again_header = signed_event(
        "checkout.session.async_payment_succeeded", session_object(session)
    )
    webhook_receive(gateway_name="test", payload=again, signature=again_header)

    assert history(order) == [
        ("", "pending", Reason.PLACED, Actor.SHOPPER, shopper.pk),
        ("pending", "paid", Reason.PAID, Actor.WEBHOOK, None),
    ]
    assert ledger(order) == [("reservation", -2), ("release", 2), ("sale", -2)]


def test_a_staff_cancel_names_the_staff_member_in_the_events_and_the_ledger(
    staff_client, start, shopper, make_product
):
    product = make_product(stock=4)
    paid = start(shopper, buy_now=(product.pk, 1))
    pay_with_test_card(session_id=paid.payment_session_id, card_number=CARD_OK)
    order = start(shopper, buy_now=(product.pk, 2))

    response = staff_client.post(
        "/admin/orders/order/",
        {"action": "cancel_unpaid", "_selected_action": [order.pk, paid.pk]},
        follow=True,
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "1 order(s) cancelled." in page
    assert "1 order(s) left as they were" in page  # the paid one
    staff = staff_client.staff
    assert history(order)[-1] == (
        "pending",
        "cancelled",
        Reason.STAFF_CANCELLED,
        Actor.STAFF,
        staff.pk,
    )
    release = StockMovement.objects.get(reference=order.number, reason="release")
    assert (release.delta, release.actor_id) == (2, staff.pk)
    # The shoppers' own moves name no staff member.
    assert not StockMovement.objects.filter(reference=order.number, reason="reservation")[
        0
    ].actor_id
    assert TestPaymentSession.objects.get(order=order).status == "expired"
    assert history(paid)[-1][1] == "paid"  # the paid order was left alone
    # Staff see who did it on the order's admin page.
    detail = staff_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "The shop cancelled this order." in detail and staff.email in detail


def test_the_shoppers_page_shows_only_the_events_that_concern_them(
    client, start, shopper, make_product
):
    product = make_product(stock=3)
    order = start(shopper, buy_now=(product.pk, 1))
    run_out(order)
    reservations_release_expired()  # the gateway confirms the session expired: staff-only note

    assert [row[2] for row in history(order)] == [
        Reason.PLACED,
        Reason.RESERVATION_EXPIRED,
        Reason.SESSION_CLOSED,
    ]
    client.force_login(shopper)
    page = client.get(order.get_absolute_url()).content.decode()
    history_html = page[page.index("data-order-history") :]
    assert 'data-event="placed"' in history_html
    assert 'data-event="reservation_expired"' in history_html
    assert "The reservation expired before payment." in history_html
    assert "session_closed" not in page
    assert str(Reason.SESSION_CLOSED.label) not in page


def test_a_change_from_a_stale_read_writes_nothing(start, shopper, make_product):
    """The status change is conditional on the status the caller read: one that lost its race
    changes nothing and logs nothing."""
    order = start(shopper, buy_now=(make_product(stock=2).pk, 1))
    stale = Order.objects.get(pk=order.pk)
    pay_with_test_card(session_id=order.payment_session_id, card_number=CARD_OK)

    with transaction.atomic():
        changed = order_status_change(
            stale, to_status=Order.Status.CANCELLED, reason=Reason.RESERVATION_EXPIRED, by=BY_TASK
        )
    assert changed is False
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
    assert [row[2] for row in history(order)] == [Reason.PLACED, Reason.PAID]


@pytest.mark.django_db(transaction=True)
def test_no_status_change_outside_a_transaction(start, shopper, make_product):
    """Without the caller's transaction the event could be lost after the change committed."""
    order = start(shopper, buy_now=(make_product(stock=2).pk, 1))
    with pytest.raises(RuntimeError, match="inside the caller's transaction"):
        order_status_change(
            order, to_status=Order.Status.CANCELLED, reason=Reason.RESERVATION_EXPIRED, by=BY_TASK
        )
    assert Order.objects.get(pk=order.pk).status == Order.Status.PENDING
    assert [row[2] for row in history(order)] == [Reason.PLACED]


def test_the_api_still_gives_the_latest_reason(client, start, shopper, make_product):
    order = start(shopper, buy_now=(make_product(stock=2).pk, 1))
    client.force_login(shopper)
    client.post(f"/orders/{order.pk}/cancel/")
    body = client.get(f"/api/orders/{order.pk}").json()
    assert body["status"] == "cancelled"
    assert body["status_reason"] == "You cancelled the order."
    assert history(order)[-1] == (
        "pending",
        "cancelled",
        Reason.SHOPPER_CANCELLED,
        Actor.SHOPPER,
        shopper.pk,
    )
