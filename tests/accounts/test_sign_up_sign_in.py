"""Sign up, sign in (by e-mail), sign out, and safe returns through ``next``."""

from __future__ import annotations

import re

import pytest

from accounts.models import User
from tests.conftest import PASSWORD
from tests.mail_links import confirm_sign_up, link_in

pytestmark = pytest.mark.django_db


def test_sign_up_mails_a_link_that_creates_the_account_and_signs_in(client, mailoutbox):
    response = client.post(
        "/account/sign-up/",
        {
            "full_name": "Rina Akter",
            "email": "Rina@Example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/sign-up/sent/"
    assert "Check your inbox" in client.get(response.headers["Location"]).content.decode()
    assert not User.objects.exists()  # nothing until the address is confirmed
    [mail] = mailoutbox
    assert mail.to == ["rina@example.com"]
    assert PASSWORD not in mail.body  # the link carries a signed id, not the password

    confirmed = confirm_sign_up(client, mailoutbox)
    assert confirmed.status_code == 302
    user = User.objects.get()
    assert user.email == "rina@example.com"
    assert user.full_name == "Rina Akter"
    assert user.check_password(PASSWORD)
    assert client.get("/").context["user"] == user


def test_sign_up_link_works_once(client, mailoutbox):
    client.post(
        "/account/sign-up/",
        {"email": "once@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert confirm_sign_up(client, mailoutbox).status_code == 302
    client.logout()
    path = link_in(mailoutbox[0], "/sign-up/confirm/")
    again = client.post(path)
    assert again.status_code == 400
    assert "no longer works" in again.content.decode()
    assert User.objects.count() == 1


def test_a_forged_or_altered_sign_up_link_creates_nothing(client, mailoutbox):
    client.post(
        "/account/sign-up/",
        {"email": "real@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    path = link_in(mailoutbox[0], "/sign-up/confirm/")
    for bad in (path.replace("/confirm/", "/confirm/x"), "/account/sign-up/confirm/forged/"):
        assert client.get(bad).status_code == 400
        assert client.post(bad).status_code == 400
    assert not User.objects.exists()


def test_sign_up_returns_to_next(client, make_product, mailoutbox):
    product = make_product()
    client.post(
        f"/account/sign-up/?next={product.get_absolute_url()}",
        {"email": "a@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    response = confirm_sign_up(client, mailoutbox)
    assert response.headers["Location"] == product.get_absolute_url()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"email": "a@example.com", "password1": PASSWORD, "password2": PASSWORD + "x"},
            "do not match",
        ),
        (
            {"email": "a@example.com", "password1": "12345678", "password2": "12345678"},
            "too common",
        ),
        ({"email": "not-an-email", "password1": PASSWORD, "password2": PASSWORD}, "valid email"),
        ({"email": "", "password1": PASSWORD, "password2": PASSWORD}, "required"),
    ],
)
def test_sign_up_rejects_bad_input(client, data, message):
    response = client.post("/account/sign-up/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.exists()


def test_sign_up_with_a_registered_address_answers_the_same_and_mails_its_owner(
    client, make_user, mailoutbox
):
    make_user("taken@example.com")
    data = {"password1": PASSWORD, "password2": PASSWORD}
    taken = client.post("/account/sign-up/?next=/p/kettle/", {"email": "TAKEN@example.com", **data})
    new = client.post("/account/sign-up/?next=/p/kettle/", {"email": "new@example.com", **data})
    assert (taken.status_code, taken.headers["Location"]) == (
        new.status_code,
        new.headers["Location"],
    )
    assert User.objects.count() == 1
    owner_mail, new_mail = mailoutbox
    assert owner_mail.to == ["taken@example.com"]
    assert "already has one" in owner_mail.body
    assert link_in(owner_mail, "/account/sign-in/") == "/account/sign-in/?next=%2Fp%2Fkettle%2F"
    assert link_in(owner_mail, "/account/password-reset/") == "/account/password-reset/"
    assert "/sign-up/confirm/" not in owner_mail.body
    assert "/sign-up/confirm/" in new_mail.body


def test_sign_up_form_validation_says_nothing_about_registered_addresses(client, make_user):
    make_user("known@example.com")
    bad = {"password1": PASSWORD, "password2": PASSWORD + "x"}
    known = client.post("/account/sign-up/", {"email": "known@example.com", **bad})
    unknown = client.post("/account/sign-up/", {"email": "unknown@example.com", **bad})
    strip = lambda page: page.content.decode().replace("unknown@", "known@")  # noqa: E731
    assert known.status_code == unknown.status_code == 200
    # The JavaScript's words (the same JSON on every page) say "already" about carts.
    page_text = re.sub(r'<script id="haat-strings".*?</script>', "", known.content.decode())
    assert "already" not in page_text
    assert _without_csrf(strip(known)) == _without_csrf(strip(unknown))


def _without_csrf(html: str) -> str:
    """The page without what differs on every response: CSRF tokens and CSP nonces."""
    import re

    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r' nonce="[^"]+"', "", html)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", html)


def test_sign_in_with_email_any_case_and_next(client, make_user, make_product):
    make_user("buyer@example.com")
    product = make_product()
    response = client.post(
        "/account/sign-in/",
        {"username": "BUYER@example.com", "password": PASSWORD, "next": product.get_absolute_url()},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == product.get_absolute_url()


def test_wrong_password_is_refused(client, make_user):
    make_user("buyer@example.com")
    response = client.post(
        "/account/sign-in/", {"username": "buyer@example.com", "password": "nope"}
    )
    assert response.status_code == 200
    assert "correct" in response.content.decode()  # "Please enter a correct e-mail and password"
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "evil",
    [
        "https://evil.example/steal",
        "//evil.example/",
        "http:\\\\evil.example",
        "javascript:alert(1)",
    ],
)
def test_open_redirects_are_refused(client, make_user, evil, mailoutbox):
    make_user("buyer@example.com")
    response = client.post(
        "/account/sign-in/", {"username": "buyer@example.com", "password": PASSWORD, "next": evil}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    client.logout()
    client.post(
        f"/account/sign-up/?next={evil}",
        {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert confirm_sign_up(client, mailoutbox).headers["Location"] == "/"


def test_sign_in_page_keeps_next_in_the_form(client, db):
    body = client.get("/account/sign-in/?next=/p/kettle/").content.decode()
    assert 'name="next" value="/p/kettle/"' in body


def test_sign_out_requires_post(shopper_client):
    assert shopper_client.get("/account/sign-out/").status_code == 405
    response = shopper_client.post("/account/sign-out/")
    assert response.status_code == 302
    assert "_auth_user_id" not in shopper_client.session


def test_password_reset_by_email(client, make_user, mailoutbox):
    user = make_user("forgetful@example.com")
    response = client.post("/account/password-reset/", {"email": "forgetful@example.com"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    form_page = client.get(link_in(mailoutbox[0], "/password-reset/"), follow=True)
    assert form_page.status_code == 200
    new_password = "a-brand-new-passphrase-9"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)


def test_password_reset_for_unknown_email_reveals_nothing(client, db, mailoutbox):
    response = client.post("/account/password-reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mailoutbox == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_on_one_link_create_one_account(mailoutbox):
    import threading

    from django.db import connection
    from django.test import Client

    Client().post(
        "/account/sign-up/",
        {"email": "twice@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    path = link_in(mailoutbox[0], "/sign-up/confirm/")
    start, statuses = threading.Barrier(4), []

    def click() -> None:
        try:
            start.wait()
            statuses.append(Client().post(path).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302, 400, 400, 400]
    assert User.objects.filter(email="twice@example.com").count() == 1
