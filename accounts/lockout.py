"""Sign-in lockout with django-axes: every ``authenticate`` (shopper sign-in, /admin/login/)
counts failures per account and per client IP in the database, each against its own limit.

Settings: SIGN_IN_FAILURE_LIMIT (per account), SIGN_IN_IP_FAILURE_LIMIT (per IP),
SIGN_IN_LOCKOUT_MINUTES (cool-off after the last counted failure). A locked-out sign-in is
refused before the password is checked, with the same 429 answer as every other limit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from haat.limits import RateLimited, rate_limited_response


def sign_in_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The account a sign-in is for, as accounts are keyed: the e-mail in lower case."""
    source = credentials if credentials else request.POST
    value = str(source.get("username") or "").strip().lower()
    return value or None


def _failures(attempts: QuerySet[AccessAttempt]) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class SignInLockoutHandler(AxesDatabaseHandler):
    """Axes' database handler with one limit per account and a higher one per IP (many
    shoppers can share an address), and a successful sign-in clearing only that account's
    failures (so an attacker cannot wipe an IP's count by signing in to an account of theirs)."""

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
        username = get_client_username(request, credentials)
        per_account = _failures(recent.filter(username=username)) if username else 0
        per_ip = _failures(recent.filter(ip_address=request.axes_ip_address))  # type: ignore[attr-defined]
        # Axes compares one number with AXES_FAILURE_LIMIT (the per-account limit); the IP's
        # count is shifted so that it reaches that number exactly at its own limit.
        shifted_ip = per_ip - settings.SIGN_IN_IP_FAILURE_LIMIT + settings.SIGN_IN_FAILURE_LIMIT
        return max(per_account, shifted_ip)

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the shared 429 answer, with how long until the cool-off ends."""
    cool_off = get_cool_off(request) or timedelta(minutes=settings.SIGN_IN_LOCKOUT_MINUTES)
    username = get_client_username(request, credentials)
    latest = AccessAttempt.objects.filter(
        Q(username=username) | Q(ip_address=getattr(request, "axes_ip_address", None))
    ).aggregate(latest=Max("attempt_time"))["latest"]
    remaining = cool_off if latest is None else latest + cool_off - timezone.now()
    seconds = max(1, int(remaining.total_seconds()))
    refusal = RateLimited(retry_after=seconds, message_key="rate_limited.sign_in")
    return rate_limited_response(request, refusal)
