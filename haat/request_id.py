"""One id per request, from the load balancer through the app into background tasks.

HAProxy sets ``X-Request-ID`` (see README: Operations); without it Haat makes one. The id lives in
a context variable for the duration of the request, so every log record written meanwhile
carries it (``RequestIdFilter``), and it is echoed in the response. A background task gets the
id of the request that queued it::

    job.enqueue(order_id=order.pk, request_id=request_id.current())   # where it is queued
    with request_id.bound(request_id):                                # inside the task
        ...
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

HEADER = "X-Request-ID"
# HAProxy's unique-id formats produce hex, dots, colons, dashes and underscores; UUIDs fit too.
# Anything else (too long, spaces, control characters) could forge log lines: replaced.
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:\-]{1,128}")

_current: ContextVar[str] = ContextVar("haat_request_id", default="")


def new() -> str:
    return uuid.uuid4().hex


def accept(value: str | None) -> str:
    """The id to use for an incoming request: the header's if well formed, else a new one."""
    if value and _WELL_FORMED.fullmatch(value):
        return value
    return new()


def current() -> str:
    """The id of the request (or task) being handled; empty outside of one."""
    return _current.get()


@contextmanager
def bound(value: str | None) -> Iterator[str]:
    """Handle what follows under ``value`` (a new id if empty or malformed), then restore the
    id that was there before."""
    value = accept(value)
    token = _current.set(value)
    try:
        yield value
    finally:
        _current.reset(token)


def start(value: str | None) -> str:
    """Bind an id for a request whose end is signalled elsewhere (``clear``); prefer ``bound``."""
    value = accept(value)
    _current.set(value)
    return value


def clear() -> None:
    _current.set("")


class RequestIdFilter(logging.Filter):
    """Puts ``request_id`` on every record (empty outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = current()
        return True
