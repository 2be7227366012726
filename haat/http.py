"""Small helpers for views."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _


def signed_in_user_id(request: HttpRequest) -> int:
    """The signed-in user's id; views using it are behind ``login_required``."""
    if not request.user.is_authenticated:
        raise PermissionDenied(_("Sign in first."))
    return int(request.user.pk)


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))
