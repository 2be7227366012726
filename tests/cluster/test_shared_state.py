"""State every node must share: a sign-out through one node ends the session on all of them, and
a sign-in lockout reached through one node holds through the others.

Both need sessions and rate limits kept where every node looks (Redis, or the database), not in
each process's memory."""

from __future__ import annotations

import re
import secrets
from collections import Counter

import httpx
import pytest

from scripts.cluster import Cluster
from tests.cluster.shop import prepare

pytestmark = pytest.mark.cluster

PASSWORD = "cluster-test-passphrase-2026"
ROUNDS = 18  # requests through the balancer per check: 6 per node, both workers of each
MAX_WRONG_PASSWORDS = 20  # a lockout must come well before this


def new_account(cluster: Cluster) -> str:
    email = f"cluster-{secrets.token_hex(4)}@cluster.invalid"
    prepare(cluster, accounts=[{"email": email, "password": PASSWORD}])
    return email


def sign_in_form(client: httpx.Client) -> str:
    """Open the sign-in page; the CSRF token its form carries."""
    page = client.get("/account/sign-in/")
    assert page.status_code == 200
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert match, "the sign-in page has no CSRF token"
    return match.group(1)


def sign_in(client: httpx.Client, email: str, password: str, token: str) -> httpx.Response:
    response = client.post(
        "/account/sign-in/",
        data={"csrfmiddlewaretoken": token, "username": email, "password": password},
        headers={"Referer": f"{client.base_url}/account/sign-in/"},
    )
    assert not (response.status_code == 403 and "CSRF" in response.text), "CSRF failed"
    return response


def signed_in(response: httpx.Response) -> bool:
    return response.status_code == 302 and "sessionid" in response.cookies


def test_signing_out_through_one_node_signs_out_on_every_node(all_nodes_up: Cluster) -> None:
    cluster = all_nodes_up
    email = new_account(cluster)
    with httpx.Client(base_url=cluster.balancer_url, timeout=30) as browser:
        assert signed_in(sign_in(browser, email, PASSWORD, sign_in_form(browser)))
        cookie = browser.cookies["sessionid"]
        # Every node (and each of its workers) serves the session once, so any copy a node
        # keeps for itself would be warm.
        before = [browser.get("/api/cart") for _ in range(ROUNDS)]
        assert [r.status_code for r in before] == [200] * ROUNDS
        assert {r.headers["x-haat-node"] for r in before} == set(cluster.node_names)

        sign_out = browser.post(
            "/account/sign-out/",
            headers={"X-CSRFToken": browser.cookies["csrftoken"], "Referer": cluster.balancer_url},
        )
        assert sign_out.status_code == 302
        signed_out_by = sign_out.headers["x-haat-node"]

    # The old cookie, as a copy of it kept by a thief or another tab would send it.
    with httpx.Client(base_url=cluster.balancer_url, timeout=30) as replay:
        after = [
            replay.get("/api/cart", headers={"Cookie": f"sessionid={cookie}"})
            for _ in range(ROUNDS)
        ]
    answers = Counter((r.headers.get("x-haat-node"), r.status_code) for r in after)
    print(f"\nsigned out through {signed_out_by}; the old cookie then got {dict(answers)}")
    assert {r.headers["x-haat-node"] for r in after} == set(cluster.node_names)
    assert [r.status_code for r in after] == [401] * ROUNDS, answers


def test_a_sign_in_lockout_reached_through_one_node_holds_on_every_node(
    all_nodes_up: Cluster,
) -> None:
    cluster = all_nodes_up
    email = new_account(cluster)
    first, *others = cluster.node_names
    with httpx.Client(base_url=cluster.node_url(first), timeout=30) as attacker:
        token = sign_in_form(attacker)
        wrong = [sign_in(attacker, email, "not-the-password", token)]
        assert wrong[0].status_code == 200  # a wrong password is an ordinary refusal at first
        while wrong[-1].status_code == 200 and len(wrong) < MAX_WRONG_PASSWORDS:
            wrong.append(sign_in(attacker, email, "not-the-password", token))
        locked = wrong[-1]
        print(
            f"\nthrough {first}: locked after {len(wrong) - 1} wrong passwords ({locked.status_code})"
        )
        assert locked.status_code != 200, f"no lockout after {len(wrong)} wrong passwords"
        assert locked.status_code < 500

    # Now even the right password must not get in, whichever node answers.
    with httpx.Client(base_url=cluster.balancer_url, timeout=30) as owner:
        token = sign_in_form(owner)
        tries = [sign_in(owner, email, PASSWORD, token) for _ in range(ROUNDS)]
    assert {r.headers["x-haat-node"] for r in tries} >= set(others)
    assert not any(signed_in(r) for r in tries), Counter(
        (r.headers.get("x-haat-node"), r.status_code) for r in tries
    )
