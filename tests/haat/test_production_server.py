"""`make prod`'s server, started as the README's plain-HTTP recipe starts it: it serves the shop
and keeps answering a plain `GET /` while three times as many slow clients as it has workers
trickle their requests in one byte a second (the issue: 6 slow sockets starved sync gunicorn)."""

from __future__ import annotations

import json
import re
import socket
import time

import httpx
import pytest

from tests.production_mode import http_status, make_variable, production_server
from tests.slow_clients import slow_sockets, timed_get


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("prod-local")


@pytest.fixture(scope="module")
def port(data_dir):
    with production_server(data_dir) as port:
        # Warm every worker up (first requests compile templates), so timings are the server's.
        for _ in range(3 * int(make_variable("WEB_CONCURRENCY"))):
            http_status(port, "/")
        yield port


def confirmation_link(server_log, deadline: float = 20.0) -> str:
    """The sign-up link from the mail the server printed (console e-mail backend)."""
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        # The console backend prints the mail quoted-printable: undo its soft line breaks.
        text = server_log.read_text().replace("=\n", "").replace("=3D", "=")
        found = re.search(r"(/account/sign-up/confirm/[^/\s]+/)", text)
        if found:
            return found.group(1)
        time.sleep(0.2)
    raise AssertionError(
        "no sign-up mail in the server's output:\n" + server_log.read_text()[-3000:]
    )


def raw_request(port: int, request: bytes) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def test_plain_http_recipe_serves_pages_static_files_and_the_api(port):
    assert http_status(port, "/") == 200
    assert http_status(port, "/static/haat/css/site.css") == 200
    assert http_status(port, "/search/?q=lamp") == 200
    assert http_status(port, "/no-such-page/") == 404
    status, body = raw_request(
        port, b"GET /api/cart HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    assert status == 401
    assert json.loads(body)["code"] == "not_authenticated"


def test_a_shopper_signs_up_and_uses_the_api_on_the_production_server(port, data_dir):
    """Sessions, CSRF, forms, messages and database writes through the ASGI handler."""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=20) as browser:
        form = browser.get("/account/sign-up/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        assert form.status_code == 200 and token
        signed_up = browser.post(
            "/account/sign-up/",
            data={
                "csrfmiddlewaretoken": token.group(1),
                "full_name": "Rina Akter",
                "email": "rina@example.com",
                "password1": "a-long-and-unusual-passphrase-7",
                "password2": "a-long-and-unusual-passphrase-7",
            },
            headers={"Referer": f"http://127.0.0.1:{port}/account/sign-up/"},
        )
        assert signed_up.status_code == 302, signed_up.text[:2000]
        link = confirmation_link(data_dir / "server.log")
        page = browser.get(link)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert page.status_code == 200 and token
        created = browser.post(
            link,
            data={"csrfmiddlewaretoken": token.group(1)},
            headers={"Referer": f"http://127.0.0.1:{port}{link}"},
        )
        assert created.status_code == 302, created.text[:2000]
        state = browser.get("/api/state")
        assert state.status_code == 200
        assert state.json()["cart_count"] == 0
        refused = browser.post(
            "/api/cart/lines",
            json={"product_id": 999999, "quantity": 1},
            headers={"X-CSRFToken": browser.cookies["csrftoken"]},
        )
        assert refused.status_code in {404, 409}, refused.text
        assert "code" in refused.json()


@pytest.mark.parametrize("mode", ["headers", "body"])
def test_slow_clients_do_not_starve_the_server(port, mode):
    count = 3 * int(make_variable("WEB_CONCURRENCY"))
    with slow_sockets(port, count, mode=mode, max_seconds=60) as sockets:
        # Every slow socket is connected and has sent more than its opening: the server holds
        # all of them mid-request when the plain GET arrives.
        assert sockets.trickling.wait(timeout=10)
        elapsed, status = timed_get(port, "/", timeout=10)
    assert status == 200, f"GET / not answered within 10 s next to {count} slow sockets ({mode})"
    print(f"GET / answered in {elapsed:.2f} s next to {count} slow sockets ({mode})")
