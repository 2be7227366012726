"""State changes for accounts."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from accounts.models import User
from haat.errors import DomainError


class EmailTaken(DomainError):
    code = "email_taken"
    http_status = 409


def user_sign_up(*, email: str, password: str, full_name: str = "") -> User:
    """Create a shopper account. Two sign-ups racing for one address: one wins, one is refused."""
    try:
        with transaction.atomic():
            return User.objects.create_user(email=email, password=password, full_name=full_name)
    except IntegrityError:
        raise EmailTaken("An account with this e-mail already exists.", email=email) from None
