"""Order e-mails on the worker. Thin: the rules are in ``orders.services``."""

from __future__ import annotations

import smtplib

from celery import shared_task
from django.db import InterfaceError, OperationalError

from haat.celery import BackgroundTask
from orders import services

# The mail server or the database was away for a moment: worth another try.
TRANSIENT_ERRORS = (
    OperationalError,
    InterfaceError,
    smtplib.SMTPException,
    ConnectionError,
    TimeoutError,
)


@shared_task(base=BackgroundTask, autoretry_for=TRANSIENT_ERRORS)
def send_order_mail(mail_id: int) -> str:
    """Send one queued order mail (at most once; see ``orders.services``)."""
    return services.order_mail_send(mail_id=mail_id)


@shared_task(base=BackgroundTask, autoretry_for=(OperationalError, InterfaceError))
def send_due_order_mails() -> dict[str, int]:
    """Periodic: send the mails still owed (queued while no worker ran, or failed before)."""
    return services.order_mails_send_due()
