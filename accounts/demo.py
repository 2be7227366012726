"""The demo accounts that `seed_demo` creates. Their passwords are printed in the README, so
`check --deploy` refuses any account that still uses one (accounts.checks)."""

from __future__ import annotations

from typing import NamedTuple


class DemoAccount(NamedTuple):
    email: str
    password: str
    full_name: str
    is_admin: bool


DEMO_SHOPPER = DemoAccount("shopper@haat.test", "haat-shopper-2026", "Demo Shopper", False)
DEMO_ADMIN = DemoAccount("admin@haat.test", "haat-admin-2026", "Demo Admin", True)
DEMO_ACCOUNTS = (DEMO_SHOPPER, DEMO_ADMIN)
DEMO_PASSWORDS = tuple(account.password for account in DEMO_ACCOUNTS)
