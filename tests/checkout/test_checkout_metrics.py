"""The shop's counters move where the events happen, and only for changes that were kept."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY

from checkout.models import Reservation
from checkout.services import order_cancel, order_refund, reservations_release_expired
from orders.models import Order, OrderEvent
from orders.services import BY_TASK
from payments.services import pay_with_test_card
from tests.api_helpers import assert_error, call

pytestmark = pytest.mark.django_db

SERIES = {
    "haat_checkouts_total": ("outcome", ("started", "refused", "failed")),
    "haat_reservations_total": ("event", ("made", "released", "expired", "converted")),
    "haat_payments_total": ("outcome", ("paid", "failed", "expired", "refund_due", "mismatched")),
    "haat_refunds_total": ("outcome", ("done", "failed")),
}


def snapshot() -> dict[tuple[str, str], float]:
    values = {}
    for name, (label, known) in SERIES.items():
        for value in known:
            values[(name, value)] = REGISTRY.get_sample_value(name, {label: value}) or 0.0
    return values


@pytest.fixture
def counting(django_capture_on_commit_callbacks):
    """``with counting() as changes:`` fills ``changes`` with what moved in the counters, once
    the block's commits are carried out (the test's own transaction never commits)."""

    @contextmanager
    def run() -> Iterator[dict[tuple[str, str], float]]:
        changes: dict[tuple[str, str], float] = {}
        before = snapshot()
        with django_capture_on_commit_callbacks(execute=True):
            yield changes
        after = snapshot()
        changes.update(
            {key: after[key] - before[key] for key in after if after[key] != before[key]}
        )

    return run


def test_a_checkout_through_the_api_counts_a_start_and_a_reservation(
    shopper_client, make_product, counting
):
    product = make_product(stock=5)
    with counting() as changes:
        body = {"buy_now": {"product_id": product.pk, "quantity": 2}}
        response = call(shopper_client, "POST", "/api/checkout", body)
    assert response.status_code == 200, response.content
    assert changes == {
        ("haat_checkouts_total", "started"): 1,
        ("haat_reservations_total", "made"): 1,
    }


def test_a_refused_checkout_counts_a_refusal_and_nothing_else(
    shopper_client, make_product, counting
):
    product = make_product(stock=1)
    with counting() as changes:
        body = {"buy_now": {"product_id": product.pk, "quantity": 3}}
        assert_error(call(shopper_client, "POST", "/api/checkout", body), 409, "insufficient_stock")
    assert changes == {("haat_checkouts_total", "refused"): 1}


def test_paying_counts_a_payment_and_a_converted_reservation(
    start, shopper, make_product, counting
):
    with counting() as changes:
        order = start(shopper, buy_now=(make_product(stock=3).pk, 1))
        pay_with_test_card(session_id=order.payment_session_id, card_number="4242424242424242")
    assert changes == {
        ("haat_checkouts_total", "started"): 1,
        ("haat_reservations_total", "made"): 1,
        ("haat_payments_total", "paid"): 1,
        ("haat_reservations_total", "converted"): 1,
    }


def test_a_declined_card_counts_a_failed_payment_and_keeps_the_reservation(
    start, shopper, make_product, counting
):
    order = start(shopper, buy_now=(make_product(stock=3).pk, 1))
    with counting() as changes:
        pay_with_test_card(session_id=order.payment_session_id, card_number="4000000000000002")
    # The payment session stays open for another card: nothing is released.
    assert changes == {("haat_payments_total", "failed"): 1}


def test_an_expired_reservation_counts_as_expired_and_released(
    start, shopper, make_product, counting
):
    order = start(shopper, buy_now=(make_product(stock=3).pk, 1))
    Reservation.objects.filter(order=order).update(expires_at=timezone.now() - timedelta(seconds=1))
    with counting() as changes:
        assert reservations_release_expired() == 1
    assert changes == {
        ("haat_reservations_total", "expired"): 1,
        ("haat_reservations_total", "released"): 1,
    }


def test_paid_too_late_counts_a_mismatch_and_a_refund(start, make_user, make_product, counting):
    late, early = make_user(), make_user()
    product = make_product(stock=1)
    order = start(late, buy_now=(product.pk, 1))
    # Released while its payment page stays open (e.g. a declined first card), then sold out.
    order_cancel(order_id=order.pk, reason=OrderEvent.Reason.PAYMENT_DECLINED, by=BY_TASK)
    start(early, buy_now=(product.pk, 1))
    with counting() as changes:
        pay_with_test_card(session_id=order.payment_session_id, card_number="4242424242424242")
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert changes == {
        ("haat_payments_total", "refund_due"): 1,
        ("haat_refunds_total", "done"): 1,
    }


def test_a_failed_refund_is_counted(start, shopper, make_product, counting):
    order = start(shopper, buy_now=(make_product(stock=3).pk, 1))
    # Due for a refund, but the test gateway has no payment to refund: it refuses.
    Order.objects.filter(pk=order.pk).update(status=Order.Status.REFUND_DUE)
    with counting() as changes:
        assert order_refund(order_id=order.pk, by=BY_TASK).status == Order.Status.REFUND_DUE
    assert changes == {("haat_refunds_total", "failed"): 1}


def test_a_change_that_was_rolled_back_is_not_counted(django_capture_on_commit_callbacks):
    from django.db import transaction

    from haat import metrics

    made = ("haat_reservations_total", "made")
    before = snapshot()[made]
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            metrics.count(metrics.RESERVATIONS, event="made")
            raise RuntimeError("rolled back")
        with transaction.atomic():
            metrics.count(metrics.RESERVATIONS, event="made")
    assert snapshot()[made] == before + 1  # only the one that was kept


def test_an_unknown_label_is_refused():
    from haat import metrics

    with pytest.raises(ValueError, match="not a known event"):
        metrics.count(metrics.RESERVATIONS, event="made_up")
