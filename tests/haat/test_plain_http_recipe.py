"""The README's recipe for trying production mode on plain HTTP works exactly as written: its
environment plus `make prod-local`'s passes `check --deploy --fail-level WARNING`, and
`make prod-local` silences exactly the checks that plain HTTP and test payments trip."""

from __future__ import annotations

import subprocess
import sys

from tests.production_mode import ROOT, make_assignments, readme_recipe, recipe_environment

PLAIN_HTTP_CHECKS = ["haat.E001", "mail.E001", "security.W008", "security.W012", "security.W016"]


def deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # make prod runs this very command first; HAAT_ENV comes from make prod itself.
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=dict(env, HAAT_ENV="production"),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_readme_recipe_is_make_prod_local():
    lines = readme_recipe()
    assert lines[-1] == "make prod-local"
    assert not any("SILENCED_SYSTEM_CHECKS" in line for line in lines)


def test_plain_http_recipe_passes_the_deploy_check(tmp_path):
    env = dict(recipe_environment(), **make_assignments("PROD_LOCAL_ENV"))
    result = deploy_check(dict(env, HAAT_DATA_DIR=str(tmp_path)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"no issues ({len(PLAIN_HTTP_CHECKS)} silenced)" in result.stdout


def test_prod_local_silences_exactly_what_it_trips(tmp_path):
    prod_local = make_assignments("PROD_LOCAL_ENV")
    assert sorted(prod_local["SILENCED_SYSTEM_CHECKS"].split(",")) == PLAIN_HTTP_CHECKS
    # Without the silencing, each of those checks fires, and nothing else does.
    env = {**recipe_environment(), **prod_local, "SILENCED_SYSTEM_CHECKS": ""}
    result = deploy_check(dict(env, HAAT_DATA_DIR=str(tmp_path)))
    assert result.returncode != 0
    reported = sorted(
        line.split("(", 1)[1].split(")", 1)[0]
        for line in result.stderr.splitlines()
        if line.startswith("?: (")
    )
    assert reported == PLAIN_HTTP_CHECKS, result.stderr
