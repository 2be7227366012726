"""Where the payment page sends the shopper back: the success and cancel pages, for the checkout
page and the API alike (the gateway fills in the placeholders)."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse


@lru_cache(maxsize=16)
def _paths(prefix: str, urlconf: object, root_urlconf: str) -> tuple[str, str]:
    """The two pages' paths under a script prefix and URLconf (every checkout asks; they only
    change with those)."""
    return reverse("checkout:success"), reverse("checkout:cancel")


def checkout_urls(request: HttpRequest) -> dict[str, str]:
    success_path, cancel_path = _paths(get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF)
    success = request.build_absolute_uri(success_path)
    cancel = request.build_absolute_uri(cancel_path)
    return {
        "success_url": f"{success}?order={{ORDER_ID}}&session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{cancel}?order={{ORDER_ID}}",
    }
