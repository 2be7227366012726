"""The checkout's periodic jobs on the worker (beat sends them; see ``CELERY_BEAT_SCHEDULE``).
Thin: the rules, and what makes each safe to run twice at once, are in ``checkout.services``."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from checkout import services
from haat.celery import BackgroundTask
from payments.gateways import GatewayError

# The database or the payment provider was away for a moment: worth another try. (A gateway
# failure on one order is handled inside the job; this covers one that ends the whole run.)
TRANSIENT_ERRORS = (OperationalError, InterfaceError, GatewayError)


@shared_task(base=BackgroundTask, autoretry_for=TRANSIENT_ERRORS)
def release_expired_reservations() -> int:
    """End the reservations that ran out, each as the gateway says (paid → fulfilled)."""
    return services.reservations_release_expired()


@shared_task(base=BackgroundTask, autoretry_for=TRANSIENT_ERRORS)
def reconcile_payment_sessions() -> dict[str, int]:
    """Settle expired and recently cancelled orders with what the gateway knows."""
    return services.payment_sessions_reconcile()


@shared_task(base=BackgroundTask, autoretry_for=TRANSIENT_ERRORS)
def retry_due_refunds() -> int:
    """Try the refunds that failed before again."""
    return services.refunds_retry_due()
