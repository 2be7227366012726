"""With ``AUTH_PROVIDER=clerk``, the Clerk session decides who the request belongs to."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from accounts import clerk
from accounts.resume import SESSION_KEY, resume_after_sign_in


class ClerkAuthenticationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.AUTH_PROVIDER == "clerk" and not request.path.startswith("/admin/"):
            self._authenticate(request)
        return self.get_response(request)

    def _authenticate(self, request: HttpRequest) -> None:
        verdict = clerk.verify_request(request)
        request.clerk_reason = verdict.reason  # type: ignore[attr-defined]
        if verdict.identity is None:
            request.user = AnonymousUser()
            return
        user = clerk.local_user_for(verdict.identity.user_id, verdict.identity.claims)
        if not user.is_active:
            request.user = AnonymousUser()
            return
        request.user = user
        if verdict.identity.via_header:
            # A Bearer token is not sent by browsers on their own, so it needs no CSRF token.
            request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
        if SESSION_KEY in request.session:
            # Signed in through Clerk's pages: carry out what the shopper clicked before.
            resume_after_sign_in(sender=None, request=request, user=user)


class AccountLanguageMiddleware:
    """A signed-in shopper's saved language applies on every request, on any browser, and the
    language cookie follows it (so the choice also holds after signing out there)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        saved = getattr(user, "language", "") if user is not None and user.is_authenticated else ""
        if saved and translation.check_for_language(saved):
            translation.activate(saved)
            request.LANGUAGE_CODE = saved
        response = self.get_response(request)
        if saved and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != saved:
            language_cookie_set(response, saved)
        return response


def language_cookie_set(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,  # type: ignore[arg-type]
    )
