"""Sign-out and password changes end a session on every process and every host.

Two gunicorn servers (3 workers each, "two hosts") serve one PostgreSQL test database, with
Redis as the shared cache (REDIS_URL) and without it (database sessions and cache). The old
cookie is first seen by every worker, then the session ends through one request, then 40
requests spread over all six workers must each answer as signed out."""

from __future__ import annotations

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tests.accounts.multiprocess import SERVER_PASSWORD, make_server_user, sign_in
from tests.multiprocess_server import Browser, GunicornServer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REQUESTS = 40


def answers(hosts: tuple[GunicornServer, ...], session_cookie: str) -> list[int]:
    """GET /api/cart with the cookie, REQUESTS times, alternating hosts, new connection each."""
    statuses = []
    browsers = [Browser(host.url(), cookies={"sessionid": session_cookie}) for host in hosts]
    for n in range(REQUESTS):
        statuses.append(browsers[n % len(browsers)].get("/api/cart").status_code)
    for browser in browsers:
        browser.close()
    return statuses


def test_sign_out_ends_the_session_on_every_worker_and_host(fresh_hosts):
    hosts = fresh_hosts
    user = make_server_user("leaving@example.com")
    first, _ = hosts
    browser = Browser(first.url())
    sign_in(browser, user.email)
    cookie = browser.client.cookies["sessionid"]
    assert answers(hosts, cookie) == [200] * REQUESTS  # every worker has now read the session

    signed_out = browser.post_form("/account/sign-out/", {})
    assert signed_out.status_code == 302, signed_out.text

    statuses = answers(hosts, cookie)
    print(f"\nafter sign-out: {statuses.count(200)} of {REQUESTS} still answered 200")
    assert statuses == [401] * REQUESTS


def test_password_change_ends_other_sessions_everywhere(fresh_hosts):
    hosts = fresh_hosts
    user = make_server_user("changing@example.com")
    first, second = hosts
    phone = Browser(first.url())
    sign_in(phone, user.email)
    cookie = phone.client.cookies["sessionid"]
    assert answers(hosts, cookie) == [200] * REQUESTS

    # The shopper resets the password on another device, through the other host.
    user.refresh_from_db()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    laptop = Browser(second.url())
    form_page = laptop.get(f"/account/password-reset/{uid}/{token}/")
    assert form_page.status_code == 302, form_page.text
    new_password = SERVER_PASSWORD + "-changed"
    done = laptop.post_form(
        form_page.headers["Location"],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302, done.text
    assert done.headers["Location"] == "/account/password-reset/done/"

    statuses = answers(hosts, cookie)
    print(f"\nafter password change: {statuses.count(200)} of {REQUESTS} still answered 200")
    assert statuses == [401] * REQUESTS
