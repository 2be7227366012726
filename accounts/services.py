"""State changes for accounts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.clerk import local_user_for, placeholder_email
from accounts.models import PendingSignUp, User
from haat.errors import DomainError

SIGN_UP_SALT = "haat.accounts.sign-up"


class EmailTaken(DomainError):
    code = "email_taken"
    http_status = 409


class SignUpLinkInvalid(DomainError):
    code = "sign_up_link_invalid"
    http_status = 400


def sign_in_lockout_lift(*, email: str) -> int:
    """End a sign-in lockout on this account (after a successful password reset)."""
    from axes.utils import reset

    return reset(username=email.strip().lower())


def sign_up_request(
    *, email: str, password: str, full_name: str = "", next_url: str = ""
) -> PendingSignUp:
    """Remember a sign-up until its address is confirmed. The same work for every address
    (hash the password, write one row), so nothing here tells whether it has an account."""
    return PendingSignUp.objects.create(
        email=email.strip().lower(),
        full_name=full_name,
        password_hash=make_password(password),
        next_url=next_url,
    )


def sign_up_token(pending: PendingSignUp) -> str:
    """The confirmation link's secret: the pending sign-up's id and address, signed and dated."""
    return signing.dumps({"id": pending.pk, "email": pending.email}, salt=SIGN_UP_SALT)


def sign_up_pending(*, token: str) -> PendingSignUp:
    """The pending sign-up a link points to, if the link is genuine, fresh and unused."""
    try:
        data = signing.loads(token, salt=SIGN_UP_SALT, max_age=settings.PASSWORD_RESET_TIMEOUT)
        pending = PendingSignUp.objects.filter(pk=int(data["id"]), email=str(data["email"])).first()
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        pending = None
    if pending is None:
        raise SignUpLinkInvalid()
    return pending


def sign_up_confirm(*, token: str) -> tuple[User, str]:
    """Create the account of a confirmed sign-up (once), and say where the shopper was going.
    Other pending sign-ups for the address end with it."""
    with transaction.atomic():
        linked = sign_up_pending(token=token)
        # Locked, so two clicks on one link create one account; the second finds it gone.
        pending = PendingSignUp.objects.select_for_update().filter(pk=linked.pk).first()
        if pending is None:
            raise SignUpLinkInvalid(message_key="sign_up_link_invalid.used")
        PendingSignUp.objects.filter(email__iexact=pending.email).delete()
        user = User(
            email=pending.email, full_name=pending.full_name, password=pending.password_hash
        )
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            raise EmailTaken(email=pending.email) from None
        return user, pending.next_url


def sign_up_forget_expired() -> int:
    """Drop sign-ups whose links have expired."""
    cutoff = timezone.now() - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    count, _kinds = PendingSignUp.objects.filter(created_at__lt=cutoff).delete()
    return count


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


def user_language_set(*, user_id: int, language: str) -> None:
    """Keep the shopper's chosen language on their account (a code from settings.LANGUAGES)."""
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"Unknown language {language!r}")
    User.objects.filter(pk=user_id).update(language=language)
