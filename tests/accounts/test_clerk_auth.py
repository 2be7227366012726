"""AUTH_PROVIDER=clerk: Clerk session tokens from the cookie or a Bearer header, verified locally."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client

from accounts.models import User
from cart.selectors import cart_contents
from tests.accounts.clerk_helpers import PUBLISHABLE_KEY, session_token
from tests.manage_process import manage

pytestmark = pytest.mark.django_db


def cookie_client(token: str) -> Client:
    client = Client()
    client.cookies["__session"] = token
    return client


def test_cookie_session_signs_in_and_creates_the_local_user_once(clerk, make_product):
    product = make_product(stock=5)
    client = cookie_client(session_token("user_cookie1"))
    response = client.post(
        "/api/cart/lines",
        json.dumps({"product_id": product.pk, "quantity": 2}),
        content_type="application/json",
    )
    assert response.status_code == 200
    user = User.objects.get(clerk_user_id="user_cookie1")
    assert not user.has_usable_password()
    assert cart_contents(user_id=user.pk).lines == {product.pk: 2}
    assert client.get("/api/state").json()["cart_count"] == 2
    assert User.objects.filter(clerk_user_id="user_cookie1").count() == 1


def test_bearer_token_works_without_csrf(clerk, make_product):
    product = make_product(stock=5)
    client = Client(enforce_csrf_checks=True)
    headers = {"Authorization": f"Bearer {session_token('user_bearer1')}"}
    response = client.post(
        "/api/cart/lines",
        json.dumps({"product_id": product.pk, "quantity": 1}),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 200
    assert User.objects.filter(clerk_user_id="user_bearer1").exists()


def test_cookie_session_still_needs_csrf_for_writes(clerk, make_product):
    product = make_product(stock=5)
    client = Client(enforce_csrf_checks=True)
    client.cookies["__session"] = session_token("user_csrf1")
    response = client.post(
        "/api/cart/lines",
        json.dumps({"product_id": product.pk, "quantity": 1}),
        content_type="application/json",
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("case", "token_kwargs"),
    [
        (
            "expired",
            {
                "exp": int(time.time()) - 60,
                "iat": int(time.time()) - 120,
                "nbf": int(time.time()) - 120,
            },
        ),
        ("not yet valid", {"nbf": int(time.time()) + 600, "iat": int(time.time())}),
        ("wrong signature", {"key": "other"}),
        ("wrong authorized party", {"azp": "https://evil.example"}),
        ("wrong issuer", {"iss": "https://clerk.evil.example"}),
        ("no subject", {"sub": None}),
    ],
)
def test_bad_tokens_end_signed_out_with_nothing_changed(clerk, make_product, case, token_kwargs):
    product = make_product(stock=5)
    token = session_token(**{"sub": "user_bad1", **token_kwargs})
    for client in (cookie_client(token), Client()):
        headers = {} if client.cookies.get("__session") else {"Authorization": f"Bearer {token}"}
        response = client.post(
            "/api/cart/lines",
            json.dumps({"product_id": product.pk, "quantity": 1}),
            content_type="application/json",
            headers=headers,
        )
        assert response.status_code == 401, case
        page = client.get("/", headers=headers)
        assert "Sign in" in page.content.decode()
    assert not User.objects.filter(clerk_user_id="user_bad1").exists()


def test_missing_token_is_signed_out(clerk):
    response = Client().get("/api/state")
    assert response.status_code == 401
    assert User.objects.count() == 0


def test_reasons_are_the_sdks(clerk, rf):
    from accounts.clerk import verify_request

    expired = rf.get(
        "/", headers={"Authorization": f"Bearer {session_token(exp=int(time.time()) - 60)}"}
    )
    assert verify_request(expired).reason == "token-expired"
    assert verify_request(rf.get("/")).reason == "session-token-missing"
    wrong_issuer = rf.get(
        "/", headers={"Authorization": f"Bearer {session_token(iss='https://x.example')}"}
    )
    assert verify_request(wrong_issuer).reason == "token-invalid-issuer"


def test_pages_render_clerk_components(clerk, client):
    body = client.get("/account/sign-in/?next=/cart/").content.decode()
    assert 'data-clerk-publishable-key="' + PUBLISHABLE_KEY in body
    assert "https://clerk.haat.test/npm/@clerk/clerk-js@5/dist/clerk.browser.js" in body
    assert 'data-next="/cart/"' in body
    assert "haat/js/clerk.js" in body
    signup = client.get("/account/sign-up/").content.decode()
    assert 'data-clerk-mode="sign-up"' in signup


def test_no_local_sign_up_in_clerk_mode_not_even_from_an_old_link(clerk, client, mailoutbox):
    from accounts.models import PendingSignUp
    from accounts.services import sign_up_request, sign_up_token

    pending = sign_up_request(email="stale@example.com", password="old-link-passphrase-1")
    path = f"/account/sign-up/confirm/{sign_up_token(pending)}/"
    assert 'data-clerk-mode="sign-up"' in client.get(path).content.decode()
    assert 'data-clerk-mode="sign-up"' in client.post(path).content.decode()
    form = client.post(
        "/account/sign-up/", {"email": "new@example.com", "password1": "x", "password2": "x"}
    )
    assert 'data-clerk-mode="sign-up"' in form.content.decode()
    assert not User.objects.exists()
    assert mailoutbox == []
    assert PendingSignUp.objects.count() == 1  # only the one this test made


def test_anonymous_click_then_clerk_sign_in_resumes(clerk, make_product):
    product = make_product(stock=5, name="Clerk Kettle")
    client = Client()
    start = client.post(
        "/cart/add/",
        {"product_id": product.pk, "quantity": "2", "next": product.get_absolute_url()},
    )
    assert start.headers["Location"].startswith("/account/sign-in/?next=")
    # Clerk's sign-in page sets the session cookie and sends the shopper back to ``next``.
    client.cookies["__session"] = session_token("user_resume1")
    page = client.get(product.get_absolute_url())
    assert "Added 2 × Clerk Kettle to your cart" in page.content.decode()
    user = User.objects.get(clerk_user_id="user_resume1")
    assert cart_contents(user_id=user.pk).lines == {product.pk: 2}


def test_sign_out_drops_the_session_cookie(clerk):
    client = cookie_client(session_token("user_out1"))
    response = client.post("/account/sign-out/")
    assert response.status_code == 200
    assert response.cookies["__session"].value == ""
    body = response.content.decode()
    assert "data-clerk-sign-out" in body  # static/haat/js/clerk.js then calls Clerk.signOut
    assert "haat/js/clerk.js" in body


def test_admin_keeps_django_accounts(clerk, client, make_user):
    staff = make_user("staff@example.com", is_staff=True, is_superuser=True)
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200


def test_app_refuses_to_start_without_clerk_settings(tmp_path):
    result = manage(
        "check", drop_prefix="CLERK_", AUTH_PROVIDER="clerk", HAAT_DATA_DIR=str(tmp_path)
    )
    assert result.returncode != 0
    assert (
        "AUTH_PROVIDER=clerk needs CLERK_PUBLISHABLE_KEY, CLERK_JWT_KEY, CLERK_ISSUER, CLERK_AUTHORIZED_PARTIES"
        in result.stderr
    )
