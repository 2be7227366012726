"""Who can be mailed: the one rule for every e-mail Haat sends a shopper."""

from __future__ import annotations

from typing import Any


def mail_address(user: Any) -> str:
    """The shopper's address, or "" when there is none to send to."""
    email = str(getattr(user, "email", "") or "")
    # Clerk users seen before their webhook have a placeholder address that takes no mail.
    if not email or email.endswith("@clerk.invalid"):
        return ""
    return email
