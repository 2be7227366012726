"""Release reservations whose time ran out with no payment event, and retry due refunds.

Run it from cron (``*/5 * * * *``) or keep it running with ``--every 60``."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from checkout.services import order_refund, reservations_release_expired
from haat.tasks import task_run
from orders.models import Order


class Command(BaseCommand):
    help = "Release expired checkout reservations and retry refunds that are due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=int, default=0, help="Repeat every N seconds.")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            with task_run("release_expired_reservations"):
                released = reservations_release_expired()
                refunded = 0
                for order_id in Order.objects.filter(status=Order.Status.REFUND_DUE).values_list(
                    "pk", flat=True
                ):
                    refunded += order_refund(order_id=order_id).status == Order.Status.REFUNDED
                self.stdout.write(
                    f"Released {released} expired reservation(s); refunded {refunded} order(s)."
                )
            if options["every"] <= 0:
                return
            time.sleep(options["every"])
