"""Sign up, sign in (by e-mail), sign out, and safe returns through ``next``."""

from __future__ import annotations

import pytest

from accounts.models import User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_sign_up_creates_account_and_signs_in(client):
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
    user = User.objects.get()
    assert user.email == "rina@example.com"
    assert user.check_password(PASSWORD)
    assert client.get("/").context["user"] == user


def test_sign_up_returns_to_next(client, make_product):
    product = make_product()
    response = client.post(
        f"/account/sign-up/?next={product.get_absolute_url()}",
        {"email": "a@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
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


def test_sign_up_refuses_existing_email_in_any_case(client, make_user):
    make_user("taken@example.com")
    response = client.post(
        "/account/sign-up/",
        {"email": "TAKEN@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert "already exists" in response.content.decode()
    assert User.objects.count() == 1


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
def test_open_redirects_are_refused(client, make_user, evil):
    make_user("buyer@example.com")
    response = client.post(
        "/account/sign-in/", {"username": "buyer@example.com", "password": PASSWORD, "next": evil}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    client.logout()
    response = client.post(
        f"/account/sign-up/?next={evil}",
        {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.headers["Location"] == "/"


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
    link = next(line for line in mailoutbox[0].body.splitlines() if "/password-reset/" in line)
    path = link.split("testserver", 1)[1]
    form_page = client.get(path, follow=True)
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
