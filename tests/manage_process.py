"""Run ``manage.py`` in a fresh process with a chosen environment (for start-up checks)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLEARED = (
    "SECRET_KEY",
    "HAAT_ENV",
    "ALLOWED_HOSTS",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "PAYMENT_GATEWAY",
    "ALLOW_TEST_PAYMENTS_IN_PRODUCTION",
    "SILENCED_SYSTEM_CHECKS",
)

# A complete production configuration: a real secret, a host name and a real payment gateway.
PRODUCTION_ENV = {
    "HAAT_ENV": "production",
    "SECRET_KEY": "x" * 20 + "a-long-random-production-secret-value-0123456789",
    "ALLOWED_HOSTS": "shop.example.com",
    "PAYMENT_GATEWAY": "stripe",
    "STRIPE_SECRET_KEY": "sk_live_haat_settings_test",
    "STRIPE_WEBHOOK_SECRET": "whsec_haat_settings_test",
}


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
