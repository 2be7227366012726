"""Waiting on conditions, not on the clock, in the browser tests.

Haat's script answers a click at once and sends the change to the server afterwards (after a
short debounce for steppers, one request at a time per product). A test that checks the
server's state must wait until that has happened: ``settle`` polls the state until it equals
what the test expects and the page has had no request in flight for ``QUIET_SECONDS`` (so a
request the script is still about to send, or a last one still under way, cannot be missed),
and fails with the last state seen after ``timeout`` seconds.

The page fixture (tests/browser/conftest.py) installs ``REQUEST_TRACKER`` in every page: it
counts the page's fetch() and XMLHttpRequest requests in flight.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

QUIET_SECONDS = 0.25
POLL_SECONDS = 0.05

REQUEST_TRACKER = """(() => {
  let inFlight = 0, lastDone = performance.now();
  const done = () => { inFlight -= 1; lastDone = performance.now(); };
  const fetch = window.fetch;
  window.fetch = function () {
    inFlight += 1;
    return fetch.apply(this, arguments).finally(done);
  };
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function () {
    inFlight += 1;
    this.addEventListener("loadend", done, { once: true });
    return send.apply(this, arguments);
  };
  // Milliseconds since the last request ended; -1 while one is in flight.
  window.haatIdleMs = () => (inFlight > 0 ? -1 : performance.now() - lastDone);
})();"""


def idle_seconds(page: Any) -> float:
    """Seconds every page of the context has had no request in flight (-1: one is)."""
    idle = [
        page_.evaluate("() => window.haatIdleMs ? window.haatIdleMs() : 1e9")
        for page_ in page.context.pages
    ]
    return -1.0 if min(idle) < 0 else min(idle) / 1000


def settle(page: Any, read: Callable[[], Any], expected: Any, *, timeout: float = 10.0) -> None:
    """Wait until ``read()`` equals ``expected`` with the page's requests done; else fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if idle_seconds(page) >= QUIET_SECONDS and read() == expected:
            return
        time.sleep(POLL_SECONDS)
    assert read() == expected, f"the server's state did not become {expected!r} in {timeout} s"
