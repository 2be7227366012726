"""Abuse limits: how often one client may sign up, ask for password resets, start checkouts and
write to a cart or wishlist.

Counters live in the shared cache (Redis, or the database without it), so every process and
every host counts together; django-ratelimit's fixed windows (on Redis counted in one round
trip, see ``_counted``). Each limit
has a name, a rate from settings (``RATE_LIMITS``, one environment variable each) and what
it counts by (client IP, signed-in user, or the e-mail address asked about). Over the limit,
``RateLimited`` is raised, and ``rate_limited_response`` turns it into the one answer for API
and pages alike: 429 with ``Retry-After``. Sign-in lockouts (django-axes) answer the same way.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django_ratelimit import UNSAFE
from django_ratelimit.core import (
    EXPIRATION_FUDGE,
    _get_window,
    _make_cache_key,
    _split_rate,
    get_usage,
)
from redis.exceptions import RedisError

from haat.cache import RedisCache
from haat.errors import DomainError

log = logging.getLogger(__name__)


class RateLimited(DomainError):
    code = "rate_limited"
    http_status = 429

    def __init__(self, retry_after: int, message_key: str = "") -> None:
        retry_after = max(1, int(retry_after))
        super().__init__(message_key=message_key, retry_after=retry_after)
        self.retry_after = retry_after

    def message_values(self) -> dict[str, object]:
        return {"wait": wait_text(self.retry_after)}


def wait_text(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = round(seconds / 60)
    return f"about {minutes} minutes" if minutes < 90 else f"about {round(minutes / 60)} hours"


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind ``TRUSTED_PROXY_COUNT`` reverse proxies
    the address the outermost of them saw (X-Forwarded-For, counted from the right, since a
    client can put anything at its left)."""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR") or "0.0.0.0"  # noqa: S104  (no address: one bucket)


def _by_ip(group: str, request: HttpRequest) -> str:
    return client_ip(request)


def _by_user(group: str, request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_ip(request)}"


def _by_email(group: str, request: HttpRequest) -> str:
    # Whatever was typed, normalised the way accounts are: the address, not the visitor.
    return request.POST.get("email", "").strip().lower()


# What each limit counts by. Rates are settings: RATE_LIMITS[name], "N/period" or None (off).
LIMITS: dict[str, Callable[[str, HttpRequest], str]] = {
    "sign_up_ip": _by_ip,
    "sign_up_email": _by_email,
    "password_reset_ip": _by_ip,
    "password_reset_email": _by_email,
    "checkout": _by_user,
    "cart_write": _by_user,
}


def check(request: HttpRequest, *names: str) -> None:
    """Count this request against each named limit; raise RateLimited when one is exceeded."""
    for name in names:
        rate = settings.RATE_LIMITS.get(name)
        if rate is None:
            continue
        try:
            usage = _counted(request, name, rate)
        except (RedisError, DatabaseError, OSError):
            # The cache is down: serve the shopper rather than fail; the outage is logged.
            log.warning("Rate limit %s not checked: the cache is unavailable", name)
            continue
        if usage is not None and usage["should_limit"]:
            raise RateLimited(retry_after=usage["time_left"])


def _counted(request: HttpRequest, name: str, rate: str) -> dict[str, Any] | None:
    """django-ratelimit's ``get_usage`` (counting this request), in one round trip on Redis:
    its cache calls are an add, then an exists and an incr. Same key, window and answer; the
    add and the increment go in one MULTI/EXEC, so a key can never be counted without its
    expiry. Other caches (the database one) go through ``get_usage`` itself."""
    cache = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
    if not isinstance(cache, RedisCache):
        return get_usage(
            request, group=name, key=LIMITS[name], rate=rate, method=UNSAFE, increment=True
        )
    if request.method not in UNSAFE:
        return None
    limit, period = _split_rate(rate)
    value = LIMITS[name](name, request)
    window = _get_window(value, period)
    key = cache.make_and_validate_key(_make_cache_key(name, window, rate, value, UNSAFE))
    pipe = cache._cache.get_client(key, write=True).pipeline(transaction=True)
    pipe.set(key, 0, ex=period + EXPIRATION_FUDGE, nx=True)
    pipe.incr(key)
    count = int(pipe.execute()[1])
    return {
        "count": count,
        "limit": limit,
        "should_limit": count > limit,
        "time_left": window - int(time.time()),
    }


def rate_limit(*names: str) -> Callable:
    """View decorator: ``@rate_limit("cart_write")``. Counts POST, PUT, PATCH and DELETE only.
    On django-ninja operations use it through ``ninja.decorators.decorate_view``."""
    unknown = [name for name in names if name not in LIMITS]
    if unknown:
        raise ValueError(f"unknown rate limits: {unknown}")

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            check(request, *names)
            return view(request, *args, **kwargs)

        return limited

    return decorator


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def rate_limited_response(request: HttpRequest, refusal: RateLimited) -> HttpResponse:
    """The one answer to a refusal for being over a limit: JSON on the API, a page elsewhere."""
    response: HttpResponse
    if wants_json(request):
        response = JsonResponse(refusal.as_dict(), status=429)
    else:
        response = render(
            request,
            "429.html",
            {"message": refusal.message, "retry_after": refusal.retry_after},
            status=429,
        )
    response["Retry-After"] = str(refusal.retry_after)
    return response


class RateLimitMiddleware:
    """Turns RateLimited raised by a view (or a view decorator) into its 429 answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RateLimited):
            return rate_limited_response(request, exception)
        return None
