"""``manage.py check --deploy``: order e-mails need the shop's public address for their links."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def site_url_is_known(**kwargs: Any) -> list[Warning]:
    if settings.SITE_URL:
        return []
    return [
        Warning(
            "SITE_URL is not set and cannot be derived (no CSRF_TRUSTED_ORIGINS or ALLOWED_HOSTS),"
            " so order e-mails would link nowhere.",
            hint="Set SITE_URL to the shop's public address, e.g. https://shop.example.com.",
            id="orders.W001",
        )
    ]
