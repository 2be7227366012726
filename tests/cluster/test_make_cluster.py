"""`make cluster` itself (scripts/cluster.py as a command): it serves through the balancer, says
what runs where, and Ctrl+C stops every process it started."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from scripts.cluster import ROOT, Cluster, free_ports, port_free

pytestmark = pytest.mark.cluster


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_make_cluster_serves_and_ctrl_c_stops_all_it_started(
    cluster: Cluster, tmp_path: Path
) -> None:
    balancer_port, node_port = free_ports(2, 18500, 18599)
    # The session cluster's database (already migrated and seeded: loading it again is a no-op)
    # and its Redis; everything else is this launcher's own.
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "HAAT_ENV"}}
    env.update(DATABASE_URL=cluster.database_url, REDIS_URL=cluster.redis_url)
    launcher = subprocess.Popen(
        [sys.executable, "scripts/cluster.py", "--nodes", "1", "--port", str(balancer_port),
         "--first-node-port", str(node_port), "--run-dir", str(tmp_path / "run"),
         "--products", "24", "--images-per-product", "0"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in launcher.stdout or []:
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    output: list[str] = []
    pids: list[int] = []
    stopped = False
    try:
        # Generous: on a busy 2-core machine the launcher's checks and static files alone
        # have taken 2 minutes.
        deadline = time.monotonic() + 300
        while not any("The shop:" in line for line in output):
            assert launcher.poll() is None, "".join(output)
            assert time.monotonic() < deadline, "".join(output)
            with contextlib.suppress(queue.Empty):
                output.append(lines.get(timeout=1))
        text = "".join(output)
        pids = [int(pid) for pid in re.findall(r"\bpid (\d+)", text)]
        assert len(pids) == 4, text  # node1, the balancer, the Celery worker and beat
        assert "celery worker" in text and "celery beat" in text
        assert f"http://127.0.0.1:{balancer_port}" in text and "node1" in text

        home = httpx.get(f"http://127.0.0.1:{balancer_port}/", timeout=30)
        assert home.status_code == 200 and home.headers["x-haat-node"] == "node1"

        launcher.send_signal(signal.SIGINT)  # Ctrl+C
        assert launcher.wait(timeout=60) == 0
        stopped = True
        reader.join(timeout=10)
        while not lines.empty():
            output.append(lines.get())
        assert "Stopped everything the cluster started." in "".join(output)
        assert not [pid for pid in pids if alive(pid)]
        assert port_free(balancer_port) and port_free(node_port)
    finally:
        if not stopped:
            # It failed. Ask the launcher to stop what it started (a SIGKILL would leave its
            # children, each in a session of its own, serving on the session cluster's Redis
            # and database: a stray worker and beat there spoil the tests after this one);
            # then kill whatever it printed.
            if launcher.poll() is None:
                launcher.send_signal(signal.SIGTERM)
                try:
                    launcher.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    launcher.kill()
                    launcher.wait(timeout=10)
            reader.join(timeout=10)
            while not lines.empty():
                output.append(lines.get())
            pids = pids or [int(pid) for pid in re.findall(r"\bpid (\d+)", "".join(output))]
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
