"""Production mode exactly as the README's plain-HTTP recipe and the Makefile run it: the recipe's
lines are read from README.md, the Makefile's variables are asked of make itself, and the server
is the one `make prod-local` starts (on a free port of 127.0.0.1 in 18000-18099, SQLite in a
temporary directory). Only processes started here are stopped, by their process group."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.manage_process import CLEARED
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
RECIPE_MARKER = "<!-- plain-http recipe:"
RECIPE_COMMAND = "make prod-local"


def readme_recipe() -> list[str]:
    """The shell lines of the README's plain-HTTP recipe (the ```sh block after its marker)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert RECIPE_MARKER in text, "README.md lost the plain-HTTP recipe's marker"
    block = text.split(RECIPE_MARKER, 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def base_environment() -> dict[str, str]:
    """This machine's environment without the variables the test run itself sets, and without
    DATABASE_URL: production mode here runs on its own SQLite database."""
    dropped = {*CLEARED, "DATABASE_URL", "TEST_DATABASE_NAME", "HAAT_DATA_DIR", "PORT", "HOST"}
    return {k: v for k, v in os.environ.items() if k not in dropped}


def recipe_environment() -> dict[str, str]:
    """The environment after the recipe's lines up to its final `make prod-local`, run by bash."""
    lines = readme_recipe()
    assert lines[-1] == RECIPE_COMMAND, f"the recipe must end with {RECIPE_COMMAND!r}"
    script = "\n".join([*lines[:-1], "env -0"])
    result = subprocess.run(
        ["bash", "-euc", script],  # noqa: S607  (the recipe is for bash, found on PATH)
        cwd=ROOT,
        env=base_environment(),
        capture_output=True,
        timeout=60,
        check=True,
    )
    pairs = (item.split("=", 1) for item in result.stdout.decode().split("\0") if "=" in item)
    return dict(pairs)


def make_variable(name: str, env: dict[str, str] | None = None) -> str:
    """A Makefile variable as make expands it."""
    result = subprocess.run(
        ["make", "-s", "--no-print-directory", "--eval", f"_p: ; @echo $({name})", "_p"],  # noqa: S607
        cwd=ROOT,
        env=env if env is not None else base_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def make_assignments(name: str) -> dict[str, str]:
    """A Makefile variable made of ``NAME=value`` words, as a dict."""
    return dict(word.split("=", 1) for word in make_variable(name).split())


def http_status(port: int, path: str = "/", timeout: float = 5.0) -> int | None:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
            )
            return int(sock.recv(64).split(b" ", 2)[1])
    except (OSError, IndexError, ValueError):
        return None


@contextmanager
def production_server(data_dir: Path, start_timeout: float = 180.0) -> Iterator[int]:
    """`make prod-local` as the README runs it, on a free port; yields the port once `GET /`
    answers 200. Stopped with SIGTERM (then SIGKILL after 30 s) to its own process group."""
    port = free_port()
    env = dict(recipe_environment(), HAAT_DATA_DIR=str(data_dir), PORT=str(port))
    log = (data_dir / "server.log").open("w")
    process = subprocess.Popen(
        RECIPE_COMMAND.split(),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + start_timeout
        while http_status(port) != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise AssertionError(
                    f"{RECIPE_COMMAND} did not serve GET / on port {port}:\n"
                    + (data_dir / "server.log").read_text()[-3000:]
                )
            time.sleep(0.5)
        yield port
    finally:
        stop_process_group(process)
        log.close()


def stop_process_group(process: subprocess.Popen, grace: float = 30.0) -> None:
    """SIGTERM to the group ``process`` leads; SIGKILL whatever is left after ``grace`` s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        process.poll()  # reap make itself, so only live members keep the group
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
