"""Production mode: secrets from the environment, `check --deploy` clean."""

from __future__ import annotations

from pathlib import Path

from tests.manage_process import PRODUCTION_ENV, manage

ROOT = Path(__file__).resolve().parents[2]


_manage = manage


def test_production_check_deploy_is_clean(tmp_path):
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **PRODUCTION_ENV,
        HAAT_DATA_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_secret_key(tmp_path):
    result = _manage("check", HAAT_ENV="production", HAAT_DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_bad_boolean_setting_is_a_clear_error(tmp_path):
    result = _manage("check", DJANGO_DEBUG="maybe", HAAT_DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be true or false" in result.stderr
