"""Where the payment page sends the shopper back: the success and cancel pages, for the checkout
page and the API alike (the gateway fills in the placeholders)."""

from __future__ import annotations

from django.http import HttpRequest

from haat.http import reverse_kept


def checkout_urls(request: HttpRequest) -> dict[str, str]:
    success = request.build_absolute_uri(reverse_kept("checkout:success"))
    cancel = request.build_absolute_uri(reverse_kept("checkout:cancel"))
    return {
        "success_url": f"{success}?order={{ORDER_ID}}&session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{cancel}?order={{ORDER_ID}}",
    }
