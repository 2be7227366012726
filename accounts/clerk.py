"""Clerk sign-in: verify Clerk session tokens locally and map Clerk users to local users.

Verification uses the official ``clerk-backend-api`` SDK with ``jwt_key`` (the PEM public key),
so no request leaves the server. The SDK does not check the issuer; we do."""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse

from accounts.models import User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClerkIdentity:
    user_id: str
    via_header: bool
    claims: dict[str, Any]


@dataclass(frozen=True)
class ClerkVerdict:
    identity: ClerkIdentity | None
    reason: str = ""


def verify_request(request: HttpRequest) -> ClerkVerdict:
    """Who does this request's Clerk session token (``__session`` cookie or Bearer) say it is?"""
    # Imported when Clerk is first used: the SDK costs a quarter of a second at every process
    # start, and most shops run without Clerk.
    from clerk_backend_api.security import authenticate_request
    from clerk_backend_api.security.types import AuthenticateRequestOptions

    state = authenticate_request(
        request,
        AuthenticateRequestOptions(
            jwt_key=settings.CLERK_JWT_KEY,
            authorized_parties=list(settings.CLERK_AUTHORIZED_PARTIES),
            accepts_token=["session_token"],
        ),
    )
    if not state.is_signed_in:
        reason = getattr(state.reason, "value", state.reason)
        if isinstance(reason, tuple):
            reason = reason[0]
        return ClerkVerdict(None, str(reason or "signed-out"))
    payload = dict(state.payload or {})
    if payload.get("iss") != settings.CLERK_ISSUER:
        return ClerkVerdict(None, "token-invalid-issuer")
    subject = payload.get("sub")
    if not isinstance(subject, str) or not subject:
        return ClerkVerdict(None, "token-invalid")
    via_header = request.headers.get("Authorization") is not None
    return ClerkVerdict(ClerkIdentity(subject, via_header, payload))


def placeholder_email(clerk_user_id: str) -> str:
    # Session tokens carry no e-mail by default; the user.created webhook fills the real one in.
    return f"{clerk_user_id.lower()}@clerk.invalid"


def local_user_for(clerk_user_id: str, claims: dict[str, Any] | None = None) -> User:
    """The local user for a Clerk user id, created on first sight (races end in one user)."""
    user = User.objects.filter(clerk_user_id=clerk_user_id).first()
    if user is not None:
        return user
    email = (claims or {}).get("email")
    if (
        not isinstance(email, str)
        or "@" not in email
        or User.objects.filter(email__iexact=email).exists()
    ):
        email = placeholder_email(clerk_user_id)
    try:
        with transaction.atomic():
            user = User(email=email.lower(), clerk_user_id=clerk_user_id)
            user.set_unusable_password()
            user.save()
            return user
    except IntegrityError:
        return User.objects.get(clerk_user_id=clerk_user_id)


def frontend_api(publishable_key: str) -> str:
    """Clerk's Frontend API host, encoded in the publishable key (``pk_test_<base64(host$)>``)."""
    try:
        encoded = publishable_key.split("_", 2)[2]
        host = base64.b64decode(encoded + "=" * (-len(encoded) % 4)).decode().rstrip("$")
    except (IndexError, ValueError, UnicodeDecodeError):
        return ""
    return host if host and "/" not in host else ""


# Where ClerkJS loads from and talks to, besides the shop's own origin (Clerk's CSP guide):
# its Frontend API (scripts, API calls, frames), user images, and Cloudflare's bot check.
CLERK_IMAGES = "https://img.clerk.com"
CLERK_BOT_CHECK = "https://challenges.cloudflare.com"


def content_security_policy() -> dict[str, list[str]]:
    """The site's policy (``SECURE_CSP``) widened for the pages that load ClerkJS."""
    base = cast(dict[str, list[str]], settings.SECURE_CSP)  # haat.settings: lists of sources
    policy = {directive: list(values) for directive, values in base.items()}
    host = frontend_api(settings.CLERK_PUBLISHABLE_KEY)
    if not host:
        return policy
    origin = f"https://{host}"
    additions = {
        "script-src": [origin, CLERK_BOT_CHECK],
        "connect-src": [origin],
        "frame-src": [origin, CLERK_BOT_CHECK],
        "img-src": [origin, CLERK_IMAGES],
        "worker-src": ["'self'", "blob:"],
        # Clerk's components inject their own <style> elements (CSS-in-JS).
        "style-src": ["'unsafe-inline'"],
    }
    for directive, values in additions.items():
        policy.setdefault(directive, ["'self'"] if directive == "frame-src" else [])
        policy[directive] += [value for value in values if value not in policy[directive]]
    return policy


def with_clerk_policy(response: HttpResponse) -> HttpResponse:
    """Send ``response`` with the Clerk policy (what ``@csp_override`` does, chosen per request
    because the key is a setting)."""
    setattr(response, "_csp_config", content_security_policy())  # noqa: B010
    return response
