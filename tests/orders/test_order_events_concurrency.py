"""Two workers racing the same order change write one event, on PostgreSQL with real
connections (the webhook and a second event for the same payment; two expiry jobs; and two
callers without the row lock, where only the conditional UPDATE stands between them)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, transaction

from catalog.models import StockMovement
from checkout.services import checkout_start, reservations_release_expired
from orders.models import Order, OrderEvent
from orders.services import BY_TASK, order_status_change
from payments.gateways.test import session_object, signed_event
from payments.models import TestPaymentSession
from payments.services import webhook_receive
from tests.checkout.conftest import URLS
from tests.checkout.scenarios import run_out

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

Reason = OrderEvent.Reason


def race(*steps: Callable[[], Any]) -> list[Any]:
    """Run the steps at the same moment, each on its own connection."""
    ready = threading.Barrier(len(steps), timeout=10)

    def run(step: Callable[[], Any]) -> Any:
        try:
            ready.wait()
            return step()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(steps)) as pool:
        return list(pool.map(run, steps))


def reasons(order: Order) -> list[str]:
    return list(order.events.order_by("created_at", "id").values_list("reason", flat=True))


def test_two_payment_events_for_one_payment_racing_write_one_paid_event(make_user, make_product):
    product = make_product(stock=5)
    order = checkout_start(user_id=make_user().pk, buy_now=(product.pk, 2), **URLS)
    session = TestPaymentSession.objects.get(order=order)
    session.status, session.payment_status = "complete", "paid"
    session.payment_reference = "pi_test_race"
    session.save()
    events = [
        signed_event(kind, session_object(session))
        for kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded")
    ]

    race(
        *(
            lambda payload=payload, header=header: webhook_receive(
                gateway_name="test", payload=payload, signature=header
            )
            for payload, header in events
        )
    )

    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
    assert reasons(order) == [Reason.PLACED, Reason.PAID]
    assert StockMovement.objects.filter(reference=order.number, reason="sale").count() == 1


def test_two_expiry_jobs_racing_write_one_cancel_event(make_user, make_product):
    product = make_product(stock=3)
    order = checkout_start(user_id=make_user().pk, buy_now=(product.pk, 3), **URLS)
    run_out(order)

    race(reservations_release_expired, reservations_release_expired)

    assert Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED
    assert reasons(order) == [Reason.PLACED, Reason.RESERVATION_EXPIRED, Reason.SESSION_CLOSED]
    assert StockMovement.objects.filter(reference=order.number, reason="release").count() == 1


def test_two_changes_from_the_same_read_without_the_lock_make_one(make_user, make_product):
    """Only the conditional UPDATE keeps these two apart: each read the order pending."""
    order = checkout_start(user_id=make_user().pk, buy_now=(make_product(stock=2).pk, 1), **URLS)

    def cancel(mine: Order) -> Callable[[], bool]:
        def step() -> bool:
            with transaction.atomic():
                return order_status_change(
                    mine,
                    to_status=Order.Status.CANCELLED,
                    reason=Reason.RESERVATION_EXPIRED,
                    by=BY_TASK,
                )

        return step

    reads = [Order.objects.get(pk=order.pk) for _ in range(3)]
    assert sorted(race(*(cancel(mine) for mine in reads))) == [False, False, True]
    assert reasons(order) == [Reason.PLACED, Reason.RESERVATION_EXPIRED]
