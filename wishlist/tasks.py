"""The wishlist's periodic job on the worker. Thin: the rules are in ``wishlist.services``."""

from __future__ import annotations

import smtplib

from celery import shared_task
from django.db import InterfaceError, OperationalError

from haat.celery import BackgroundTask
from wishlist import services


@shared_task(
    base=BackgroundTask,
    autoretry_for=(OperationalError, InterfaceError, smtplib.SMTPException, ConnectionError),
)
def send_due_back_in_stock_alerts() -> dict[str, int]:
    """Periodic: send the back-in-stock alerts still owed (queued while no worker ran, or
    whose mail failed before)."""
    return services.back_in_stock_alerts_send()
