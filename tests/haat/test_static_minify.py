"""Production's collectstatic ships the shop's scripts minified (haat.staticfiles): smaller,
still valid JavaScript, named by the minified content and compressed from it."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

SOURCE = Path(settings.BASE_DIR) / "static" / "haat" / "js" / "haat.js"


@pytest.fixture
def collected(tmp_path: Path) -> Path:
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "haat.staticfiles.MinifiedStaticFilesStorage"},
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
    return tmp_path


def test_collectstatic_ships_the_script_minified_and_named_by_that(collected: Path) -> None:
    manifest = json.loads((collected / "staticfiles.json").read_text())
    shipped = collected / manifest["paths"]["haat/js/haat.js"]
    source = SOURCE.read_bytes()
    minified = shipped.read_bytes()
    assert len(minified) < 0.8 * len(source)
    assert b"// " not in minified  # no comments left
    gzipped = Path(str(shipped) + ".gz").read_bytes()
    assert gzip.decompress(gzipped) == minified  # compressed from the minified file
    print(f"haat.js {len(source)} B source, {len(minified)} B minified, {len(gzipped)} B gzipped")


def test_the_minified_script_is_valid_javascript(collected: Path) -> None:
    node = shutil.which("node")
    if not node:
        pytest.fail("Node.js is needed (make test installs it)")
    manifest = json.loads((collected / "staticfiles.json").read_text())
    for name in ("haat/js/haat.js", "haat/js/clerk.js"):
        shipped = collected / manifest["paths"][name]
        result = subprocess.run([node, "--check", str(shipped)], capture_output=True, text=True)
        assert result.returncode == 0, (name, result.stderr)
