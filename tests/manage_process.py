"""Run ``manage.py`` in a fresh process with a chosen environment (for start-up checks)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLEARED = ("SECRET_KEY", "HAAT_ENV", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE")


def manage(*args: str, drop_prefix: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in CLEARED and not (drop_prefix and k.startswith(drop_prefix))
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )
