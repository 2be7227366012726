"""Deploy check: no account that can matter still signs in with a published demo password."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import check_password
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DatabaseError, connection
from django.db.models import Q

from accounts.demo import DEMO_ACCOUNTS, DEMO_PASSWORDS


@register(Tags.security, deploy=True)
def check_no_demo_passwords(**kwargs: Any) -> list[CheckMessage]:
    from accounts.models import User

    try:
        if User._meta.db_table not in connection.introspection.table_names():
            return []  # not migrated yet: no accounts at all
        # The demo e-mails and every staff account. Password hashing is slow on purpose, so
        # ordinary shoppers (who cannot open /admin/) are not checked one by one.
        candidates = list(
            User.objects.filter(
                Q(email__in=[account.email for account in DEMO_ACCOUNTS])
                | Q(is_staff=True)
                | Q(is_superuser=True)
            ).values_list("email", "password")
        )
    except DatabaseError as error:
        return [
            Warning(
                f"Could not look for accounts with demo passwords: {error}",
                hint="Check DATABASE_URL; the database must be reachable to deploy.",
                id="haat.W002",
            )
        ]
    # check_password without a setter: never rehashes or saves anything.
    found = sorted(
        email
        for email, encoded in candidates
        if any(check_password(password, encoded) for password in DEMO_PASSWORDS)
    )
    return [
        Error(
            f"The account {email} signs in with a demo password (printed in the README).",
            hint=f"Change it (manage.py changepassword {email}) or delete the account.",
            id="haat.E002",
        )
        for email in found
    ]
