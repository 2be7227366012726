"""The Celery app: configured from Django's settings (the ``CELERY_`` ones), tasks found in each
app's ``tasks.py``.

Run the worker with ``celery -A haat worker`` and the schedule with ``celery -A haat beat``
(README: Background work). Without ``REDIS_URL`` tasks run in the calling process and
``haat.ticker`` runs the schedule inside the web process."""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery
from celery.contrib.django.task import DjangoTask

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haat.settings")

log = logging.getLogger(__name__)

app = Celery("haat")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class BackgroundTask(DjangoTask):
    """Defaults for Haat's tasks: transient errors (named by each task's ``autoretry_for``) are
    retried with exponential backoff (5 s, 10 s, 20 s … with jitter, at most 10 minutes apart),
    a bounded number of times. Every task is idempotent, so a retry or a redelivery after a
    worker was killed does no harm."""

    retry_backoff = 5
    retry_backoff_max = 600
    retry_jitter = True
    max_retries = 5

    def retry(self, *args: Any, **kwargs: Any) -> Any:
        # In-process (no broker) a retry would run again at once and hold up whoever queued
        # the task; the periodic job picks the work up on its next run instead.
        if self.request.is_eager:
            error = kwargs.get("exc")
            if isinstance(error, BaseException):
                raise error
        return super().retry(*args, **kwargs)
