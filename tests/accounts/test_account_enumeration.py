"""Whether an address has an account is told only by mail, to that address: password reset
and sign-up do the same work and give the same answer for registered and unknown addresses,
and the look-up, token and mail run outside the request (haat.background, thread runner)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from haat.background import wait_until_idle
from tests.accounts import gated_mail
from tests.conftest import PASSWORD

# The background thread writes while the next request does: that needs a real database server
# (SQLite's in-memory test database refuses a second writing connection instead of waiting).
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mail_in_background(settings):
    settings.BACKGROUND_TASKS = "thread"
    settings.MAILERS = gated_mail.MAILERS
    gated_mail.GATE.clear()
    yield
    gated_mail.GATE.set()
    assert wait_until_idle()


def answer_and_work(client, path: str, data: dict) -> tuple:
    """The answer a visitor sees, and the tables the request itself touched."""
    with CaptureQueriesContext(connection) as queries:
        response = client.post(path, data)
    tables = sorted(
        {name for q in queries for name in re.findall(r'"(accounts_[a-z_]+)"', q["sql"])}
    )
    return (response.status_code, response.headers.get("Location")), tables


def test_password_reset_answers_the_same_before_any_lookup_or_mail(
    mail_in_background, client, make_user, mailoutbox
):
    make_user("registered@example.com")
    registered = answer_and_work(
        client, "/account/password-reset/", {"email": "registered@example.com"}
    )
    unknown = answer_and_work(client, "/account/password-reset/", {"email": "nobody@example.com"})
    assert registered == unknown == ((302, "/account/password-reset/sent/"), [])
    assert mailoutbox == []  # the answer did not wait for the mail
    gated_mail.GATE.set()
    assert wait_until_idle()
    assert [mail.to for mail in mailoutbox] == [["registered@example.com"]]


def test_sign_up_answers_the_same_for_new_and_registered_addresses(
    mail_in_background, client, make_user, mailoutbox
):
    make_user("registered@example.com")
    data = {"password1": PASSWORD, "password2": PASSWORD}
    registered = answer_and_work(
        client, "/account/sign-up/", {"email": "registered@example.com", **data}
    )
    new = answer_and_work(client, "/account/sign-up/", {"email": "new@example.com", **data})
    # Both write one pending sign-up and never look at the accounts table.
    assert registered == new == ((302, "/account/sign-up/sent/"), ["accounts_pendingsignup"])
    assert mailoutbox == []
    gated_mail.GATE.set()
    assert wait_until_idle()
    by_address = {mail.to[0]: mail.body for mail in mailoutbox}
    assert "already has one" in by_address["registered@example.com"]
    assert "/sign-up/confirm/" in by_address["new@example.com"]
