"""Run the checkout's periodic jobs once, by hand: end expired reservations (asking the gateway
first), reconcile payment sessions, retry due refunds.

Celery beat runs the same jobs on a schedule (README: Background work); so does the web process
itself when no broker is configured."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from checkout.services import payment_sessions_reconcile, refunds_retry_due
from haat.tasks import task_run


class Command(BaseCommand):
    help = (
        "Once: end expired checkout reservations as the gateway says, reconcile payment "
        "sessions, and retry refunds that are due."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        with task_run("release_expired_reservations"):
            reconciled = payment_sessions_reconcile()
            refunded = refunds_retry_due()
        self.stdout.write(
            f"Ended {reconciled['expired']} expired reservation(s); "
            f"recovered {reconciled['recovered']} paid order(s) of "
            f"{reconciled['rechecked']} rechecked; refunded {refunded} order(s)."
        )
