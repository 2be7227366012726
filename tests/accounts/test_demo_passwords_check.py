"""`check --deploy` fails while the demo accounts, or any staff account, still sign in with a
password printed in the README (haat.E002)."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks

from accounts.demo import DEMO_ADMIN, DEMO_SHOPPER
from tests.manage_process import PRODUCTION_ENV, manage

pytestmark = pytest.mark.django_db


def demo_password_errors() -> list[str]:
    return [
        message.msg
        for message in run_checks(include_deployment_checks=True)
        if message.id == "haat.E002" and message.is_serious()
    ]


def test_demo_admin_with_its_demo_password_fails_the_check(make_user):
    make_user(DEMO_ADMIN.email, DEMO_ADMIN.password, is_staff=True, is_superuser=True)
    errors = demo_password_errors()
    assert len(errors) == 1
    assert DEMO_ADMIN.email in errors[0]


def test_demo_shopper_with_its_demo_password_fails_the_check(make_user):
    make_user(DEMO_SHOPPER.email, DEMO_SHOPPER.password)
    assert [DEMO_SHOPPER.email in error for error in demo_password_errors()] == [True]


def test_any_staff_account_with_a_demo_password_fails_the_check(make_user):
    make_user("owner@shop.example.com", DEMO_ADMIN.password, is_staff=True)
    make_user("root@shop.example.com", DEMO_SHOPPER.password, is_superuser=True)
    errors = demo_password_errors()
    assert len(errors) == 2
    assert any("owner@shop.example.com" in error for error in errors)
    assert any("root@shop.example.com" in error for error in errors)


def test_changed_passwords_and_plain_shoppers_pass(make_user):
    admin = make_user(DEMO_ADMIN.email, DEMO_ADMIN.password, is_staff=True, is_superuser=True)
    admin.set_password("a-new-strong-password-for-the-owner")
    admin.save()
    # Shoppers cannot open /admin/, and hashing every shopper's password would take minutes.
    make_user("someone@example.com", DEMO_SHOPPER.password)
    assert demo_password_errors() == []


def test_check_never_rewrites_a_password_hash(make_user):
    admin = make_user(DEMO_ADMIN.email, DEMO_ADMIN.password, is_staff=True)
    before = admin.password
    assert demo_password_errors()
    admin.refresh_from_db()
    assert admin.password == before


def test_seeded_demo_database_fails_check_deploy_in_production(tmp_path):
    """The issue's path: a database seeded with the demo, then started in production."""
    # SQLite in tmp_path, whatever DATABASE_URL the test run itself uses.
    data = {"HAAT_DATA_DIR": str(tmp_path), "drop_prefix": "DATABASE_URL"}
    assert manage("migrate", "--noinput", "-v0", **data).returncode == 0
    seeded = manage("seed_demo", "--products", "0", "--no-progress", **data)
    assert seeded.returncode == 0, seeded.stderr
    result = manage("check", "--deploy", **PRODUCTION_ENV, **data)
    assert result.returncode != 0
    assert f"(haat.E002) The account {DEMO_ADMIN.email} signs in with a demo password" in (
        result.stderr
    )
    assert DEMO_SHOPPER.email in result.stderr
