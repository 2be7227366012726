"""Free loopback ports for the servers tests start (gunicorn, runserver, HAProxy, SMTP, Redis).

Ports are tried in random order from HAAT_TEST_PORTS (``low-high``; default 20000-29999, below
Linux's ephemeral range, so outgoing connections never take them meanwhile). A first-free scan
would hand the same port to two test processes starting at once (pytest-xdist workers, two
`make test` runs); a random pick of thousands makes that unlikely, and one process never gets
the same port twice."""

from __future__ import annotations

import os
import random
import socket

DEFAULT_SPAN = (20000, 29999)
_handed_out: set[int] = set()


def port_span() -> range:
    span = os.environ.get("HAAT_TEST_PORTS", "")
    if not span:
        return range(DEFAULT_SPAN[0], DEFAULT_SPAN[1] + 1)
    low, _, high = span.partition("-")
    return range(int(low), int(high or low) + 1)


def free_port() -> int:
    """A port of the span nobody listens on now, not handed out before in this process."""
    span = port_span()
    for port in random.sample(span, len(span)):
        if port in _handed_out:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port in {span.start}-{span.stop - 1} (HAAT_TEST_PORTS)")
