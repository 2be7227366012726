"""Small helpers for views."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _


def signed_in_user_id(request: HttpRequest) -> int:
    """The signed-in user's id; views using it are behind ``login_required``."""
    if not request.user.is_authenticated:
        raise PermissionDenied(_("Sign in first."))
    return int(request.user.pk)


def reverse_kept(viewname: str, *args: str) -> str:
    """``reverse(viewname, args=args)``, worked out once per script prefix and URLconf: hot
    paths (every checkout) reverse the same few paths, which only change with those."""
    return _reversed(viewname, args, get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF)


@lru_cache(maxsize=64)
def _reversed(
    viewname: str, args: tuple[str, ...], prefix: str, urlconf: object, root_urlconf: str
) -> str:
    return reverse(viewname, args=args)


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
