"""Say, before anything is migrated or seeded, that the port `make run` or `make prod` would serve
on is taken, and what to do about it. Exit 0 when it is free, 1 when it is not."""

from __future__ import annotations

import errno
import socket
import sys


def port_problem(host: str, port: int) -> str | None:
    """None when a server could listen on host:port now, else why not, in words."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # The same option runserver and granian set: a port in TIME_WAIT counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is already in use (is Haat, or another server, running?)"
            if error.errno == errno.EACCES:
                return f"port {port} on {host} needs privileges this user does not have"
            return f"cannot listen on {host}:{port}: {error.strerror}"
    return None


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1].isdecimal() or not 0 < int(argv[1]) < 65536:
        print("usage: port_free.py HOST PORT (PORT a number from 1 to 65535)", file=sys.stderr)
        return 2
    host, port = argv[0], int(argv[1])
    problem = port_problem(host, port)
    if problem is None:
        return 0
    print(f"Haat cannot start: {problem}.", file=sys.stderr)
    print(f"Stop that server, or pick another port: make run PORT={port + 1}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
