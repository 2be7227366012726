"""Slow clients against a running Haat: how long a plain `GET /` takes while N sockets trickle
their requests in one byte a second (a "slowloris"). 127.0.0.1 only; bounded in sockets and time.

    .venv/bin/python -m tests.slow_clients --port 8000 --sockets 15 50
    .venv/bin/python -m tests.slow_clients --port 8000 --sockets 15 --mode body

`headers` mode never finishes the request line and headers; `body` mode sends complete headers
announcing a body and then trickles the body. tests/haat/test_production_server.py uses the same
functions against the server that `make prod` starts.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

HOST = "127.0.0.1"
MAX_SOCKETS = 200


class SlowSockets(list[socket.socket]):
    """The open slow sockets; ``trickling`` is set once each has sent a byte after its opening."""

    def __init__(self) -> None:
        super().__init__()
        self.trickling = threading.Event()


@contextmanager
def slow_sockets(
    port: int, count: int, *, mode: str = "headers", max_seconds: float = 120.0
) -> Iterator[SlowSockets]:
    """Open ``count`` connections that each send one more byte every second until the block
    ends (or ``max_seconds`` pass), and never complete their request."""
    if not 0 < count <= MAX_SOCKETS:
        raise ValueError(f"between 1 and {MAX_SOCKETS} sockets")
    if mode == "headers":
        opening = b"G"
        trickle = b"ET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 10_000
    elif mode == "body":
        # A webhook reads its whole body (no CSRF refusal answers before it is read).
        opening = (
            b"POST /webhooks/test-gateway HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
        )
        trickle = b"a" * 100_000
    else:
        raise ValueError("mode is 'headers' or 'body'")
    sockets = SlowSockets()
    stop = threading.Event()

    def drip() -> None:
        deadline = time.monotonic() + max_seconds
        position = 0
        while not stop.wait(1.0) and time.monotonic() < deadline and position < len(trickle):
            for sock in sockets:
                # The server may give up on a slow socket: that is allowed.
                with contextlib.suppress(OSError):
                    sock.send(trickle[position : position + 1])
            position += 1
            sockets.trickling.set()

    try:
        for _ in range(count):
            sock = socket.create_connection((HOST, port), timeout=5)
            sock.send(opening)
            sockets.append(sock)
        dripper = threading.Thread(target=drip, daemon=True)
        dripper.start()
        yield sockets
    finally:
        stop.set()
        for sock in sockets:
            sock.close()


def timed_get(port: int, path: str = "/", timeout: float = 40.0) -> tuple[float, int | None]:
    """Seconds until a plain ``GET path`` is answered, and its status (None: no answer)."""
    started = time.monotonic()
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as sock:
            sock.settimeout(max(0.1, timeout - (time.monotonic() - started)))
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
            )
            first = sock.recv(64)
    except OSError:
        return time.monotonic() - started, None
    elapsed = time.monotonic() - started
    try:
        return elapsed, int(first.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return elapsed, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sockets", type=int, nargs="+", default=[15])
    parser.add_argument("--mode", choices=["headers", "body"], default="headers")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds before the GET")
    parser.add_argument("--timeout", type=float, default=40.0)
    args = parser.parse_args()
    baseline, status = timed_get(args.port, timeout=args.timeout)
    print(f"no slow sockets: GET / {status} in {baseline:.2f} s")
    for count in args.sockets:
        with slow_sockets(args.port, count, mode=args.mode, max_seconds=args.timeout + 30):
            time.sleep(args.settle)  # a manual measurement: let the server settle as asked
            elapsed, status = timed_get(args.port, timeout=args.timeout)
        answer = f"{status} in {elapsed:.2f} s" if status else f"no answer after {elapsed:.1f} s"
        print(f"{count} slow sockets ({args.mode}): GET / {answer}", flush=True)
        time.sleep(2)


if __name__ == "__main__":
    main()
