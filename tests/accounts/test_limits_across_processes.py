"""A limit reached through one worker holds on every other worker and host.

Two gunicorn servers of 3 workers each share one PostgreSQL test database and Redis (or,
without REDIS_URL, the database cache). The servers run with small limits
(tests/accounts/multiprocess.py: 5 sign-in failures per account, 5 sign-ups per IP an hour,
12 cart writes per user an hour); every request is a new connection, so the workers take turns.
"""

from __future__ import annotations

import pytest

from accounts.models import User
from tests.accounts.multiprocess import SERVER_PASSWORD, make_server_user, sign_in
from tests.multiprocess_server import Browser

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_sign_in_lockout_reached_on_one_host_holds_on_all_workers_of_both(
    fresh_hosts, make_product
):
    first, second = fresh_hosts
    shopper = make_server_user("guessed@example.com")
    attacker = Browser(first.url())
    wrong = [
        sign_in(attacker, shopper.email, f"guess-{n}", expect=None).status_code for n in range(5)
    ]
    assert wrong == [200] * 4 + [429]

    # The real shopper, on the other host and then on this one: refused everywhere.
    answers = []
    for n in range(12):
        browser = Browser((second if n % 3 else first).url())
        answers.append(sign_in(browser, shopper.email, expect=None))
        assert "sessionid" not in browser.client.cookies
    assert [answer.status_code for answer in answers] == [429] * 12
    assert all(int(answer.headers["Retry-After"]) > 0 for answer in answers)


def test_admin_lockout_holds_on_the_other_host(fresh_hosts):
    first, second = fresh_hosts
    make_server_user("chief@example.com", is_staff=True, is_superuser=True)
    attacker = Browser(second.url())
    for n in range(5):
        sign_in(attacker, "chief@example.com", f"guess-{n}", path="/admin/login/", expect=None)
    admin = Browser(first.url())
    for _ in range(6):
        assert sign_in(admin, "chief@example.com", path="/admin/login/", expect=429)


def test_sign_up_limit_counts_together_on_every_worker_and_host(fresh_hosts):
    hosts = fresh_hosts
    statuses = []
    for n in range(15):
        browser = Browser(hosts[n % 2].url())
        answer = browser.post_form(
            "/account/sign-up/",
            {
                "email": f"bulk{n}@example.com",
                "password1": SERVER_PASSWORD,
                "password2": SERVER_PASSWORD,
            },
        )
        statuses.append(answer.status_code)
        if answer.status_code == 429:
            assert int(answer.headers["Retry-After"]) > 0
    assert statuses == [302] * 5 + [429] * 10
    assert not User.objects.exists()  # accounts appear only when a mailed link is followed


def test_cart_write_limit_per_user_holds_on_both_hosts(fresh_hosts, make_product):
    first, second = fresh_hosts
    make_server_user("busy@example.com")
    product = make_product(stock=100)
    browser = Browser(first.url())
    sign_in(browser, "busy@example.com")
    cookies = dict(browser.client.cookies)
    shoppers = [Browser(host.url(), cookies=cookies) for host in (first, second)]
    answers = [
        shoppers[n % 2].post_json("/api/cart/lines", {"product_id": product.pk, "quantity": 1})
        for n in range(20)
    ]
    assert [answer.status_code for answer in answers] == [200] * 12 + [429] * 8
    refused = answers[-1].json()
    assert refused["code"] == "rate_limited"
    assert refused["details"]["retry_after"] == int(answers[-1].headers["Retry-After"]) > 0
    assert shoppers[1].get("/api/cart").json()["count"] == 12
