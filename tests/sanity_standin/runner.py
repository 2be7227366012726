"""Start the Node stand-in for Sanity's HTTP API (tests/sanity_standin/server.mjs) on 127.0.0.1."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
TOKEN = "sk-haat-standin-token"


def _installed() -> bool:
    modules = HERE / "node_modules"
    return (modules / "groq-js").exists() and (modules / "@sanity" / "mutator").exists()


def ensure_node_modules() -> None:
    if _installed():
        return
    # pytest-xdist workers (and concurrent test runs) install one at a time: two `npm ci` in
    # one directory would delete each other's files.
    with (HERE / ".npm-install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _installed():
            _npm_ci()


def _npm_ci() -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "Node.js and npm are needed for the Sanity stand-in (apt-get install nodejs npm)"
        )
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=HERE, check=True, timeout=300
    )


class StandIn:
    def __init__(self) -> None:
        ensure_node_modules()
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("Node.js is needed for the Sanity stand-in")
        env = dict(os.environ, SANITY_STANDIN_TOKEN=TOKEN, PORT="0")
        self.process = subprocess.Popen(
            [node, str(HERE / "server.mjs")],
            cwd=HERE,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        port = self.process.stdout.readline().strip()
        if not port.isdigit():
            self.process.kill()
            raise RuntimeError("The Sanity stand-in did not start")
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def fault(self, dataset: str, **fault: Any) -> None:
        """Make the next requests to ``dataset`` fail or stall (see server.mjs: fault hooks)."""
        httpx.post(
            f"{self.url}/_standin/faults", json={"dataset": dataset, **fault}
        ).raise_for_status()

    def clear_faults(self, dataset: str) -> None:
        httpx.post(
            f"{self.url}/_standin/faults", json={"dataset": dataset, "clear": True}
        ).raise_for_status()
