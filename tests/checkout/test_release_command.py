"""`manage.py release_expired_reservations`: one manual run of the checkout's periodic jobs.
Repeating is beat's job now: `--every` is gone."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from checkout.management.commands.release_expired_reservations import Command
from checkout.models import Reservation
from orders.models import Order

pytestmark = pytest.mark.django_db


def test_every_is_gone():
    # Parsed only: with the old option the command would loop for ever.
    parser = Command().create_parser("manage.py", "release_expired_reservations")
    with pytest.raises(CommandError, match="unrecognized arguments: --every"):
        parser.parse_args(["--every", "60"])


def test_one_run_releases_reconciles_and_refunds(
    start, shopper, make_user, make_product, monkeypatch
):
    order = start(shopper, buy_now=(make_product(stock=2).pk, 2))
    Reservation.objects.filter(order=order).update(expires_at=timezone.now() - timedelta(minutes=1))
    refund_due = start(make_user(), buy_now=(make_product(stock=1).pk, 1))
    Order.objects.filter(pk=refund_due.pk).update(status=Order.Status.REFUND_DUE)
    monkeypatch.setattr(
        "payments.gateways.test.TestGateway.refund", lambda self, **kwargs: "re_test_manual"
    )
    out = StringIO()

    call_command("release_expired_reservations", stdout=out)

    assert Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED
    assert Order.objects.get(pk=refund_due.pk).status == Order.Status.REFUNDED
    assert out.getvalue().strip() == (
        "Ended 1 expired reservation(s); recovered 0 paid order(s) of 0 rechecked; "
        "refunded 1 order(s)."
    )
