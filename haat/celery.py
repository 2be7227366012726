"""The Celery app: configured from Django's settings (the ``CELERY_`` ones), tasks found in each
app's ``tasks.py``.

Run the worker with ``celery -A haat worker`` and the schedule with ``celery -A haat beat``
(README: Background work). Without ``REDIS_URL`` tasks run in the calling process and
``haat.ticker`` runs the schedule inside the web process."""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery, shared_task
from celery.contrib.django.task import DjangoTask
from celery.signals import before_task_publish

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

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Every run, in a worker or in-process: under the id of the request that queued it
        # (carried in the message's headers), counted and logged (haat.tasks).
        from haat.tasks import task_run

        carried = getattr(self.request, "haat_request_id", None) or (
            getattr(self.request, "headers", None) or {}
        ).get("haat_request_id")
        with task_run(self.name, request_id=carried):
            return super().__call__(*args, **kwargs)

    def retry(self, *args: Any, **kwargs: Any) -> Any:
        # In-process (no broker) a retry would run again at once and hold up whoever queued
        # the task; the periodic job picks the work up on its next run instead.
        if self.request.is_eager:
            error = kwargs.get("exc")
            if isinstance(error, BaseException):
                raise error
        return super().retry(*args, **kwargs)


@before_task_publish.connect
def _carry_request_id(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """A task queued while handling a request runs under that request's id."""
    from haat import request_id

    if headers is not None and request_id.current():
        headers["haat_request_id"] = request_id.current()


@shared_task(base=BackgroundTask, name="haat.background.run", acks_late=True)
def run_background_task(task_path: str, kwargs: dict[str, Any]) -> None:
    """``haat.background.enqueue``'s work, carried by the broker when there is one."""
    from django.utils.module_loading import import_string

    import_string(task_path)(**kwargs)
