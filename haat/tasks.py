"""Running one background task: under the request id that queued it, counted and logged.

Where a task is queued, pass ``request_id.current()`` along with its arguments; where it runs::

    with task_run("send_receipt", request_id=captured_id):
        ...

A task run outside any request (cron, a loop) gets an id of its own, so its log lines still
belong together.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from haat import metrics
from haat import request_id as request_ids

log = logging.getLogger("haat.tasks")


@contextmanager
def task_run(name: str, *, request_id: str | None = None) -> Iterator[str]:
    """Run the body as task ``name``: binds the request id (yielded), counts the run as ok or
    failed, logs its end with the duration; an error is logged and raised again."""
    with request_ids.bound(request_id) as bound_id:
        started = time.perf_counter()
        try:
            yield bound_id
        except Exception:
            metrics.count_now(metrics.TASKS, task=name, outcome="failed")
            log.exception("task %s failed", name, extra={"task": name, "duration_ms": _ms(started)})
            raise
        metrics.count_now(metrics.TASKS, task=name, outcome="ok")
        log.info("task %s done", name, extra={"task": name, "duration_ms": _ms(started)})


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
