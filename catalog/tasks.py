"""The catalogue's periodic jobs on the worker (beat sends them; see ``CELERY_BEAT_SCHEDULE``).
Thin: the rules, and what makes each safe to run twice at once, are in ``catalog.services``."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from catalog import services
from haat.celery import BackgroundTask

TRANSIENT_ERRORS = (OperationalError, InterfaceError)


@shared_task(base=BackgroundTask, autoretry_for=TRANSIENT_ERRORS)
def deliver_store_changes() -> int:
    """Send the product changes an external store (Sanity) has not got yet; failures wait
    their backoff and are tried again here."""
    return services.store_changes_deliver()


@shared_task(base=BackgroundTask, autoretry_for=TRANSIENT_ERRORS)
def reconcile_store() -> dict[str, int]:
    """Compare the external store's copy of the catalogue with the database and repair it."""
    return services.store_reconcile()
