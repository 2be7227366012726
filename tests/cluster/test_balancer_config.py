"""The repository's HAProxy config (deploy/haproxy/haproxy.cfg) does what its comments promise,
checked against two small stand-in nodes: one of them drops requests to /drop without answering,
as a node killed mid-request does."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from scripts.cluster import HAPROXY_TEMPLATE, free_ports, haproxy_binary, render_haproxy_config

pytestmark = pytest.mark.cluster


@dataclass
class StandInNode:
    name: str
    drops: bool  # answer /drop with nothing (the connection just closes)
    seen: Counter[str] = field(default_factory=Counter)
    last_headers: dict[str, str] = field(default_factory=dict)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        node = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                if self.path == "/drop":
                    node.seen[self.command] += 1
                    node.last_headers = dict(self.headers)
                    if node.drops:
                        self.close_connection = True
                        return
                body = node.name.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # health checks and dropped connections end abruptly, on purpose


@pytest.fixture
def balancer() -> Iterator[tuple[str, StandInNode, StandInNode]]:
    lb_port, port_a, port_b = free_ports(3, 18500, 18599)
    nodes = [StandInNode("a", drops=True), StandInNode("b", drops=False)]
    servers = [QuietServer(("127.0.0.1", p), n.handler()) for p, n in zip([port_a, port_b], nodes, strict=True)]  # fmt: skip
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    run_dir = Path(tempfile.mkdtemp(prefix="haat-lbt-"))
    config = run_dir / "haproxy.cfg"
    config.write_text(
        render_haproxy_config(HAPROXY_TEMPLATE.read_text(), [("a", port_a), ("b", port_b)])
    )
    env = dict(
        os.environ,
        HAAT_LB_BIND=f"127.0.0.1:{lb_port}",
        HAAT_HAPROXY_SOCKET=str(run_dir / "haproxy.sock"),
        HAAT_HEALTH_PATH="/",
    )
    haproxy = subprocess.Popen(
        [haproxy_binary(), "-db", "-f", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{lb_port}"
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("HAProxy did not answer within 15 s")
        yield base, nodes[0], nodes[1]
    finally:
        haproxy.terminate()
        haproxy.wait(timeout=10)
        for server in servers:
            server.shutdown()
            server.server_close()
        shutil.rmtree(run_dir, ignore_errors=True)


def test_a_get_a_node_dropped_is_answered_by_another_node(balancer) -> None:
    base, dropping, healthy = balancer
    answers = [httpx.get(base + "/drop", timeout=10) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 6
    assert {a.text for a in answers} == {"b"} and healthy.seen["GET"] == 6
    assert dropping.seen["GET"] >= 1  # some went to the dropping node first and were retried


def test_a_post_a_node_dropped_is_never_replayed(balancer) -> None:
    base, dropping, healthy = balancer
    answers = [httpx.post(base + "/drop", content=b"{}", timeout=10) for _ in range(6)]
    statuses = Counter(a.status_code for a in answers)
    # Round robin: half reach the dropping node and fail with 502; none of them is sent again.
    assert statuses == Counter({502: dropping.seen["POST"], 200: healthy.seen["POST"]})
    assert dropping.seen["POST"] >= 1 and healthy.seen["POST"] == statuses[200]


def test_the_balancer_sets_request_id_and_forwarding_headers(balancer) -> None:
    base, _, healthy = balancer
    response = httpx.get(
        base + "/drop",
        headers={"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https", "X-Request-ID": "x"},
        timeout=10,
    )
    assert response.status_code == 200
    sent = {k.lower(): v for k, v in healthy.last_headers.items()}
    assert sent["x-forwarded-for"] == "127.0.0.1"  # the client's claim is replaced
    assert sent["x-forwarded-proto"] == "http"
    assert sent["x-request-id"] != "x" and sent["x-request-id"].count("_") >= 3
    assert response.headers["x-request-id"] == sent["x-request-id"]
