"""Work that runs outside the request: ``enqueue("accounts.tasks.send_password_reset", ...)``.

The one seam for background work. A task is a plain function named by its dotted path, called
with keyword arguments that are JSON (ids, strings, numbers: never model instances, never
secrets), so a task queue can carry them unchanged. It runs after the current transaction
commits (at once when there is none), so it always sees what the request wrote.

With a broker (``REDIS_URL``) the task goes to Celery's workers (``haat.celery``), so it survives
the web process and is retried there. Without one, ``BACKGROUND_TASKS`` picks the runner:
``thread`` (default: a small pool of threads in each process) or ``inline`` (run at once in the
caller's thread, for tests and debugging). Failures are logged, never raised into the request
that enqueued them.
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from celery import Task

log = logging.getLogger(__name__)

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_running: set[Future[None]] = set()


def enqueue(task_path: str, **kwargs: Any) -> None:
    import_string(task_path)  # a wrong name fails here, in the request, not later in silence
    json.dumps(kwargs)  # the arguments a task queue could carry
    if settings.BACKGROUND_TASKS == "inline":
        _run(task_path, kwargs)
        return
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        transaction.on_commit(partial(_send_to_worker, task_path, kwargs))
        return
    transaction.on_commit(partial(_start, task_path, kwargs))


def publish_on_commit(task: Task, *args: Any) -> None:
    """Hand a Celery task to the workers once the current transaction commits, for work that a
    periodic job also finds (a row the task is about, left due until it is done). If the broker
    cannot take it (Redis restarting), that is logged and the periodic job does the work on its
    next run: the request that committed never fails for it. Without a broker the task runs
    here at once, as ``delay`` does in-process."""
    transaction.on_commit(partial(_publish, task, args))


def _publish(task: Task, args: tuple[Any, ...]) -> None:
    try:
        task.delay(*args)
    except Exception:
        log.warning(
            "Broker unavailable; %s%r is left to its periodic job", task.name, args, exc_info=True
        )


def _send_to_worker(task_path: str, kwargs: dict[str, Any]) -> None:
    from haat.celery import run_background_task

    try:
        run_background_task.delay(task_path, kwargs)
    except Exception:
        # The broker is away (Redis restarting): do it here rather than lose it.
        log.warning("Broker unavailable; running %s in this process", task_path, exc_info=True)
        _start(task_path, kwargs)


def _start(task_path: str, kwargs: dict[str, Any]) -> None:
    future = _thread_pool().submit(_run, task_path, kwargs)
    _running.add(future)
    future.add_done_callback(_running.discard)


def _thread_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # Created on first use, so each forked server worker gets its own threads.
            _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="haat-background")
        return _pool


def _run(task_path: str, kwargs: dict[str, Any]) -> None:
    in_thread = threading.current_thread().name.startswith("haat-background")
    if in_thread:
        close_old_connections()
    try:
        import_string(task_path)(**kwargs)
    except Exception:
        log.exception("Background task %s failed", task_path)
    finally:
        if in_thread:
            connections.close_all()  # this thread's own; an idle pool holds none open


def wait_until_idle(timeout: float = 10.0) -> bool:
    """Wait for the tasks started so far (tests, and a clean shutdown). True when all done."""
    pending = list(_running)
    for future in pending:
        try:
            future.result(timeout=timeout)
        except TimeoutError:
            return False
    return True
