"""End to end on 127.0.0.1: HAProxy makes the request id, the app logs it and sends it back;
/metrics is refused to anyone who comes through HAProxy and answered to a direct local scrape.

The balancer lines are those of the project's HAProxy config (unique-id-format, X-Request-ID,
forwardfor, httpchk on /readyz). Both servers are started here and stopped by their pid."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.manage_process import ROOT, manage
from tests.ports import free_port

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"

pytestmark = pytest.mark.skipif(
    not Path(HAPROXY).exists(), reason="HAProxy is not installed (apt-get install haproxy)"
)


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


HAPROXY_CONFIG = """
global
    log stdout format raw local0 info
    stats socket {socket} mode 600 level admin
defaults
    mode http
    log global
    timeout client 10s
    timeout connect 2s
    timeout server 10s
    timeout check 2s
    log-format "%ST %{{+Q}}r {{%ID}}"
frontend shop
    bind 127.0.0.1:{balancer}
    unique-id-format %{{+X}}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid
    http-request set-header X-Request-ID %[unique-id]
    http-response set-header X-Request-ID %[unique-id]
    http-request del-header X-Forwarded-For
    option forwardfor
    default_backend app
backend app
    option httpchk
    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host localhost
    http-check expect status 200
    server app1 127.0.0.1:{app} check inter 500ms fall 2 rise 1
"""


def test_one_request_id_from_haproxy_through_the_app(tmp_path):
    env = {
        **os.environ,
        # Its own SQLite database, whatever database the test run itself uses.
        "DATABASE_URL": "",
        "HAAT_ENV": "development",
        "HAAT_DATA_DIR": str(tmp_path),
        "DJANGO_DEBUG": "false",
        "LOG_FORMAT": "json",
    }
    migrated = manage("migrate", "--noinput", "-v0", **env)
    assert migrated.returncode == 0, migrated.stderr
    app_port, balancer_port = free_port(), None
    app_log, balancer_log = tmp_path / "app.log", tmp_path / "haproxy.log"
    with app_log.open("wb") as output:
        app = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "haat.wsgi",
                *("--bind", f"127.0.0.1:{app_port}", "--workers", "1", "--no-control-socket"),
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=output,
            start_new_session=True,
        )
    balancer = None
    try:
        wait_for(f"http://127.0.0.1:{app_port}/healthz")
        balancer_port = free_port()
        config = tmp_path / "haproxy.cfg"
        admin = tmp_path / "haproxy.sock"
        config.write_text(HAPROXY_CONFIG.format(balancer=balancer_port, app=app_port, socket=admin))
        with balancer_log.open("wb") as output:
            balancer = subprocess.Popen(
                [HAPROXY, "-db", "-f", str(config)],
                stdout=output,
                stderr=output,
                start_new_session=True,
            )
        through = f"http://127.0.0.1:{balancer_port}"
        wait_for(f"{through}/healthz")

        # A client cannot choose its id: HAProxy replaces it.
        response = httpx.get(f"{through}/api/cart", headers={"X-Request-ID": "forged-by-client"})
        assert response.status_code == 401
        rid = response.headers["X-Request-ID"]
        assert rid and rid != "forged-by-client"

        # /metrics: refused through the balancer (it says who the client is, and Haat was not
        # told to trust it), answered to a scrape from this machine that comes straight in.
        assert httpx.get(f"{through}/metrics").status_code == 404
        direct = httpx.get(f"http://127.0.0.1:{app_port}/metrics")
        assert direct.status_code == 200 and "haat_checkouts_total" in direct.text

        # The balancer's checks of /readyz pass: HAProxy has the app UP after a layer-7 check.
        assert app_state(admin) == ("UP", "L7OK")
    finally:
        if balancer is not None:
            stop(balancer)
        stop(app)

    lines = [json.loads(line) for line in app_log.read_text().splitlines() if line.startswith("{")]
    (access,) = [
        line
        for line in lines
        if line.get("logger") == "haat.access" and line["path"] == "/api/cart"
    ]
    assert access["request_id"] == rid
    assert access["status"] == 401 and access["method"] == "GET"
    assert "{" + rid + "}" in balancer_log.read_text()
    # Passing checks leave no access lines (a balancer probes every few seconds).
    assert not [line for line in lines if line.get("path") == "/readyz"]


def app_state(admin: Path, seconds: float = 10) -> tuple[str, str]:
    """(status, last check) of the app server in HAProxy, once a check has run."""
    deadline = time.monotonic() + seconds
    state = ("", "")
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(admin))
            sock.sendall(b"show stat\n")
            text = b"".join(iter(lambda: sock.recv(65536), b"")).decode()
        header, *rows = [line for line in text.splitlines() if line]
        fields = header.lstrip("# ").split(",")
        for row in rows:
            values = dict(zip(fields, row.split(","), strict=False))
            if values.get("svname") == "app1":
                # HAProxy writes "* " before the last result while the next check runs.
                state = (values["status"], values["check_status"].removeprefix("* "))
        if state[1] and state[1] != "INI":
            return state
        time.sleep(0.2)
    return state
