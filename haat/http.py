"""Small helpers for views."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _


def signed_in_user_id(request: HttpRequest) -> int:
    """The signed-in user's id; views using it are behind ``login_required``."""
    if not request.user.is_authenticated:
        raise PermissionDenied(_("Sign in first."))
    return int(request.user.pk)


# The page's script asks for one part of a page (a template partial) to swap in by name.
FRAGMENT_HEADER = "X-Haat-Fragment"


def wanted_fragment(request: HttpRequest, allowed: tuple[str, ...]) -> str | None:
    """The partial the request names in ``X-Haat-Fragment``, if the view offers it."""
    name = request.headers.get(FRAGMENT_HEADER, "")
    return name if name in allowed else None


def safe_next_url(request: HttpRequest, fallback: str) -> str:
    """The ``next`` parameter when it points back into this site, else ``fallback``."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    # Only a path from the root or a full URL: redirect() would read "0" or "cart" as the name
    # of a URL pattern and fail.
    if candidate.startswith(("/", "http://", "https://")) and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback
