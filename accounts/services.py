"""State changes for accounts."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from accounts.clerk import local_user_for, placeholder_email
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


def _primary_email(data: dict[str, Any]) -> str:
    primary = data.get("primary_email_address_id")
    addresses = data.get("email_addresses") or []
    for address in addresses:
        if address.get("id") == primary and address.get("email_address"):
            return str(address["email_address"]).lower()
    for address in addresses:
        if address.get("email_address"):
            return str(address["email_address"]).lower()
    return ""


def clerk_user_upsert(*, data: dict[str, Any]) -> User:
    """``user.created`` / ``user.updated``: keep the local user's e-mail and name current."""
    clerk_user_id = str(data["id"])
    with transaction.atomic():
        user = local_user_for(clerk_user_id)
        user = User.objects.select_for_update().get(pk=user.pk)
        email = _primary_email(data)
        if email and not User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
            user.email = email
        elif not user.email:
            user.email = placeholder_email(clerk_user_id)
        name = " ".join(part for part in (data.get("first_name"), data.get("last_name")) if part)
        user.full_name = name[:150]
        user.save(update_fields=["email", "full_name"])
        return user


def clerk_user_delete(*, clerk_user_id: str) -> bool:
    """``user.deleted``: remove the user with their cart and wishlist; their orders stay, with
    no link back to the person (the order's user becomes empty)."""
    with transaction.atomic():
        user = User.objects.select_for_update().filter(clerk_user_id=clerk_user_id).first()
        if user is None:
            return False
        user.delete()  # carts and wishlists cascade; orders keep their lines and lose the user
        return True
