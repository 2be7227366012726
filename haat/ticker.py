"""The periodic jobs without a broker: a small thread in the web process runs the beat schedule.

With no ``REDIS_URL`` (``make run``) there is no worker and no beat, yet expired reservations
must still be released, payments reconciled and mails sent. ``haat.wsgi`` calls
``start_embedded_ticker()`` when it is imported, which happens only in a process that serves
requests: runserver's reloading child (never its parent, which only watches files) and each
gunicorn worker. Management commands and tests never import it. The ticker runs each job of
``CELERY_BEAT_SCHEDULE`` at start and then once per period, in-process (``Task.apply``); several
tickers at once (one per gunicorn worker) are as safe as several workers, because every job is
idempotent through the database."""

from __future__ import annotations

import importlib
import logging
import os
import threading
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections

log = logging.getLogger(__name__)


def _seconds(schedule: Any) -> float:
    if isinstance(schedule, timedelta):
        return schedule.total_seconds()
    if isinstance(schedule, int | float):
        return float(schedule)
    # A crontab or other celery schedule: only beat can run those.
    raise TypeError(f"The embedded ticker runs fixed periods only, not {schedule!r}")


def run_job(task_name: str) -> Any:
    """Run one periodic task in this process, as a worker would. Returns its result; a
    failure is logged (the next period tries again)."""
    from haat.celery import app

    importlib.import_module(task_name.rsplit(".", 1)[0])  # registers the task
    close_old_connections()
    try:
        result = app.tasks[task_name].apply()
    finally:
        close_old_connections()
    if result.failed():
        log.error("Periodic job %s failed: %r", task_name, result.result)
    return result.result


class Ticker:
    """Runs ``schedule`` (beat's format: name → {"task", "schedule"}) on a daemon thread."""

    def __init__(self, schedule: Mapping[str, Mapping[str, Any]]) -> None:
        self.jobs = [(entry["task"], _seconds(entry["schedule"])) for entry in schedule.values()]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="haat-ticker", daemon=True)

    def start(self) -> Ticker:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            connections.close_all()  # this thread's own connections

    def _loop(self) -> None:
        due = {task: time.monotonic() for task, _ in self.jobs}
        periods = dict(self.jobs)
        while not self._stop.is_set():
            for task, at in sorted(due.items(), key=lambda item: item[1]):
                if at > time.monotonic() or self._stop.is_set():
                    continue
                try:
                    with _between_forks:
                        run_job(task)
                except Exception:  # the thread must outlive any one job
                    log.exception("Periodic job %s failed", task)
                due[task] = time.monotonic() + periods[task]
            self._stop.wait(max(0.0, min(due.values()) - time.monotonic()))


_lock = threading.Lock()
_running: dict[int, Ticker] = {}  # by process id: a forked child starts its own
# Held while a job runs and around a fork, so a process never forks in the middle of a job
# (its child would inherit whatever that job had locked).
_between_forks = threading.Lock()


def _after_fork_in_child() -> None:
    global _between_forks
    _between_forks = threading.Lock()
    start_embedded_ticker()


def start_embedded_ticker() -> Ticker | None:
    """Start this serving process's ticker, once, when there is no broker to hand jobs to."""
    if not (settings.EMBEDDED_TICKER and settings.CELERY_TASK_ALWAYS_EAGER):
        return None
    if os.environ.get("PYTEST_VERSION"):  # set by pytest: tests start tickers themselves
        return None
    with _lock:
        if os.getpid() in _running:
            return _running[os.getpid()]
        if not _running:
            # gunicorn --preload imports the app before forking its workers; threads do not
            # survive a fork, so each worker starts its own.
            os.register_at_fork(
                before=lambda: _between_forks.acquire(),
                after_in_parent=lambda: _between_forks.release(),
                after_in_child=_after_fork_in_child,
            )
        ticker = _running[os.getpid()] = Ticker(settings.CELERY_BEAT_SCHEDULE).start()
    log.info(
        "No REDIS_URL: running the periodic jobs in this process (%s)",
        ", ".join(f"{task} every {period:g} s" for task, period in ticker.jobs),
    )
    return ticker
