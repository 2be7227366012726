"""Sign-in lockout (django-axes): per account and per IP, on the shop's sign-in and on
/admin/login/; a lockout ends by itself, a password reset lifts it, and it cannot be made
permanent. Limits are the defaults (10 per account, 50 per IP, 15 minutes)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

SIGN_IN = "/account/sign-in/"


def attempt(client, email: str, password: str, ip: str = "203.0.113.7", path: str = SIGN_IN):
    return client.post(path, {"username": email, "password": password}, REMOTE_ADDR=ip)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def age_attempts(minutes: int) -> None:
    """Move every recorded failure back in time (as if that many minutes had passed)."""
    for row in AccessAttempt.objects.all():
        row.attempt_time -= timedelta(minutes=minutes)
        row.save(update_fields=["attempt_time"])


def test_fifty_wrong_passwords_lock_the_account_and_the_right_one_is_refused(client, make_user):
    user = make_user("target@example.com")
    statuses = [attempt(client, user.email, f"guess-{n}").status_code for n in range(50)]
    right = attempt(client, user.email, PASSWORD)
    print(f"\nwrong passwords answered: {statuses.count(200)} × 200, {statuses.count(429)} × 429")
    # Nine times the form says "wrong password"; the tenth failure locks the account.
    assert statuses[:9] == [200] * 9
    assert set(statuses[9:]) == {429}
    assert right.status_code == 429
    assert not signed_in(client)
    assert 0 < int(right.headers["Retry-After"]) <= 15 * 60
    body = right.content.decode()
    assert "Too many sign-in attempts" in body
    assert "Reset your password" in body


def test_other_case_of_the_address_counts_for_the_same_account(client, make_user):
    user = make_user("mixed@example.com")
    for n in range(10):
        attempt(client, "MIXED@Example.com" if n % 2 else user.email, f"guess-{n}")
    assert attempt(client, user.email, PASSWORD).status_code == 429


def test_lockout_holds_from_another_ip(client, make_user):
    user = make_user("distributed@example.com")
    for n in range(10):
        attempt(client, user.email, f"guess-{n}", ip=f"198.51.100.{n}")
    assert attempt(client, user.email, PASSWORD, ip="192.0.2.1").status_code == 429


def test_an_unknown_address_is_answered_exactly_like_a_known_one(client, make_user):
    make_user("known@example.com")
    known = [attempt(client, "known@example.com", "nope").status_code for _ in range(11)]
    unknown = [attempt(client, "unknown@example.com", "nope").status_code for _ in range(11)]
    assert known == unknown == [200] * 9 + [429] * 2


def test_one_ip_trying_many_accounts_is_stopped_at_the_ip_limit(client, make_user):
    victim = make_user("victim@example.com")
    for n in range(50):
        attempt(client, f"someone{n}@example.com", "123456", ip="203.0.113.50")
    assert attempt(client, victim.email, PASSWORD, ip="203.0.113.50").status_code == 429
    # The same account from anywhere else is fine: the IP is locked, not the shopper.
    assert attempt(client, victim.email, PASSWORD, ip="203.0.113.51").status_code == 302


def test_lockout_ends_by_itself_and_failures_meanwhile_do_not_extend_it(client, make_user):
    user = make_user("patient@example.com")
    for n in range(10):
        attempt(client, user.email, f"guess-{n}")
    age_attempts(10)
    for n in range(20):  # the attacker keeps trying during the lockout
        assert attempt(client, user.email, f"more-{n}").status_code == 429
    age_attempts(6)  # 16 minutes after the failure that locked it
    assert attempt(client, user.email, PASSWORD).status_code == 302
    assert signed_in(client)


def test_successful_sign_in_clears_the_account_failures_but_not_the_ip_ones(client, make_user):
    own = make_user("own@example.com")
    victim = make_user("victim2@example.com")
    for n in range(45):
        attempt(client, f"other{n}@example.com", "guess", ip="203.0.113.9")
    for _ in range(4):
        attempt(client, own.email, "typo", ip="203.0.113.9")
    assert attempt(client, own.email, PASSWORD, ip="203.0.113.9").status_code == 302
    assert not AccessAttempt.objects.filter(username=own.email).exists()
    client.logout()
    # 45 of the IP's failures are left, under its limit of 50: the victim can still sign in ...
    assert attempt(client, victim.email, PASSWORD, ip="203.0.113.9").status_code == 302
    client.logout()
    for n in range(5):
        attempt(client, f"more{n}@example.com", "guess", ip="203.0.113.9")
    # ... and five more failures reach it: signing in to one's own account never wiped it.
    assert attempt(client, victim.email, PASSWORD, ip="203.0.113.9").status_code == 429


def test_password_reset_lifts_the_account_lockout(client, make_user):
    user = make_user("forgot@example.com")
    for n in range(10):
        attempt(client, user.email, f"guess-{n}")
    assert attempt(client, user.email, PASSWORD).status_code == 429
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    form_page = client.get(
        f"/account/password-reset/{uid}/{default_token_generator.make_token(user)}/", follow=True
    )
    new_password = "a-fresh-start-passphrase-4"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302
    assert attempt(client, user.email, new_password).status_code == 302
    assert signed_in(client)


def test_admin_sign_in_is_locked_out_too(client, make_user):
    admin = make_user("boss@example.com", is_staff=True, is_superuser=True)
    statuses = [
        attempt(client, admin.email, f"guess-{n}", path="/admin/login/").status_code
        for n in range(20)
    ]
    right = attempt(client, admin.email, PASSWORD, path="/admin/login/")
    print(f"\nadmin tries answered: {statuses.count(200)} × 200, {statuses.count(429)} × 429")
    assert statuses == [200] * 9 + [429] * 11
    assert right.status_code == 429
    assert right.headers["Retry-After"]
    assert client.get("/admin/").status_code == 302  # still signed out


def test_clerk_mode_keeps_its_own_sign_in_and_admin_lockout_still_holds(clerk, client, make_user):
    page = client.get(SIGN_IN)
    assert page.status_code == 200
    assert 'data-clerk-mode="sign-in"' in page.content.decode()
    admin = make_user("clerkboss@example.com", is_staff=True)
    for n in range(10):
        attempt(client, admin.email, f"guess-{n}", path="/admin/login/")
    assert attempt(client, admin.email, PASSWORD, path="/admin/login/").status_code == 429
