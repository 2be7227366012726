"""Production never takes test payments unless a staging shop turns them on by name, and then
`check --deploy` fails (haat.E001). Development keeps the test gateway as its zero-set-up default."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks

from tests.manage_process import PRODUCTION_ENV, manage

# Production without any payment variables: what the shop ran.
NO_GATEWAY = {k: v for k, v in PRODUCTION_ENV.items() if not k.startswith(("PAYMENT", "STRIPE"))}


@pytest.mark.parametrize("gateway", [None, "test"], ids=["gateway-unset", "gateway-test"])
def test_production_refuses_to_start_with_the_test_gateway(tmp_path, gateway):
    env = dict(NO_GATEWAY, HAAT_DATA_DIR=str(tmp_path))
    if gateway:
        env["PAYMENT_GATEWAY"] = gateway
    result = manage("check", **env)
    assert result.returncode != 0, result.stdout
    assert "ImproperlyConfigured" in result.stderr
    for variable in (
        "PAYMENT_GATEWAY=stripe",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "ALLOW_TEST_PAYMENTS_IN_PRODUCTION=true",
    ):
        assert variable in result.stderr


def test_staging_switch_starts_but_fails_the_deploy_check(tmp_path):
    env = dict(
        NO_GATEWAY,
        PAYMENT_GATEWAY="test",
        ALLOW_TEST_PAYMENTS_IN_PRODUCTION="true",
        HAAT_DATA_DIR=str(tmp_path),
    )
    assert manage("check", **env).returncode == 0  # the shop starts ...
    result = manage("check", "--deploy", **env)  # ... but is not fit to deploy
    assert result.returncode != 0
    assert "(haat.E001)" in result.stderr
    assert "4242 4242 4242 4242" in result.stderr


@pytest.mark.django_db
def test_stripe_in_production_passes_the_payment_check(settings):
    settings.PRODUCTION, settings.PAYMENT_GATEWAY = True, "stripe"
    assert "haat.E001" not in {m.id for m in run_checks(include_deployment_checks=True)}


@pytest.mark.django_db
def test_test_gateway_in_production_is_a_deploy_error(settings):
    settings.PRODUCTION, settings.PAYMENT_GATEWAY = True, "test"
    errors = [m for m in run_checks(include_deployment_checks=True) if m.id == "haat.E001"]
    assert errors and errors[0].is_serious()


def test_development_keeps_the_test_gateway_by_default(tmp_path):
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.PAYMENT_GATEWAY)",
        HAAT_DATA_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "test"
