"""`make run` on a fresh machine: a taken port is said before anything is migrated or seeded, and
`make run PORT=…` serves on the port given."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The run must not inherit the test run's database or production switches.
MAKE = shutil.which("make") or "make"
CLEARED = {"DATABASE_URL", "TEST_DATABASE_NAME", "HAAT_ENV", "REDIS_URL", "HAAT_TEST_STORE"}


def run_environment(data_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in CLEARED}
    return dict(env, HAAT_DATA_DIR=str(data_dir))


def listening_socket() -> socket.socket:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    return server


def test_a_taken_port_is_said_before_migrating_or_seeding(tmp_path):
    with listening_socket() as taken:
        port = taken.getsockname()[1]
        result = subprocess.run(
            [MAKE, "--no-print-directory", "run", f"PORT={port}"],
            cwd=ROOT,
            env=run_environment(tmp_path),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode != 0
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert f"make run PORT={port + 1}" in result.stderr
    # Nothing was migrated or seeded: the data directory is still empty.
    assert list(tmp_path.iterdir()) == []


def free_port() -> int:
    with listening_socket() as probe:
        return probe.getsockname()[1]


def test_make_run_serves_on_the_port_given(tmp_path):
    port = free_port()
    server = subprocess.Popen(
        [MAKE, "--no-print-directory", "run", f"PORT={port}"],
        cwd=ROOT,
        env=run_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
                    assert answer.status == 200
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    output = server.stdout.read() if server.stdout else ""
                    pytest.fail(f"make run PORT={port} did not serve:\n{output}")
                time.sleep(0.5)
    finally:
        os.killpg(server.pid, 15)  # the group make started: make, runserver and its child
        server.wait(timeout=30)
