"""Set-ups shared by the expiry, reconciliation and worker tests."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from catalog.models import StockMovement
from checkout.models import Reservation
from orders.models import Order
from payments.models import TestPaymentSession
from payments.services import pay_with_test_card

CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000002"


def pay_and_crash(order: Order) -> None:
    """The gateway takes the money, then the process dies before the order is fulfilled
    (a gunicorn worker or the database killed between "session paid" and "order fulfilled")."""
    with (
        mock.patch("payments.services.order_fulfil", side_effect=RuntimeError("worker killed")),
        pytest.raises(RuntimeError, match="worker killed"),
    ):
        pay_with_test_card(session_id=order.payment_session_id, card_number=CARD_OK)
    assert TestPaymentSession.objects.get(order=order).payment_status == "paid"
    assert Order.objects.get(pk=order.pk).status == Order.Status.PENDING


def run_out(order: Order, *, minutes: float = 1) -> None:
    """The reservation (and the payment session, which shares its expiry) ran out."""
    past = timezone.now() - timedelta(minutes=minutes)
    Reservation.objects.filter(order=order).update(expires_at=past)
    TestPaymentSession.objects.filter(order=order).update(expires_at=past)


def ledger(order: Order) -> list[tuple[str, int]]:
    return list(
        StockMovement.objects.filter(reference=order.number)
        .order_by("id")
        .values_list("reason", "delta")
    )


def status(order: Order) -> str:
    return Order.objects.get(pk=order.pk).status
