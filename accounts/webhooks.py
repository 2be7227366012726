"""Clerk's user webhooks, verified with their Svix signature."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.services import clerk_user_delete, clerk_user_upsert

log = logging.getLogger(__name__)


@csrf_exempt  # authenticated by the Svix signature on the raw body instead
@require_POST
def clerk_webhook(request: HttpRequest) -> HttpResponse:
    if not settings.CLERK_WEBHOOK_SECRET:
        raise Http404("Clerk webhooks are not configured.")
    headers = {
        name: request.headers.get(name, "")
        for name in ("svix-id", "svix-timestamp", "svix-signature")
    }
    # Imported here: svix costs half a second at start-up, in every process, for a rare request.
    from svix.webhooks import Webhook, WebhookVerificationError

    try:
        Webhook(settings.CLERK_WEBHOOK_SECRET).verify(request.body, headers)
        event = json.loads(request.body)
        kind, data = event["type"], event["data"]
    except (WebhookVerificationError, ValueError, KeyError, TypeError) as error:
        log.warning("Rejected Clerk webhook: %s", error)
        return JsonResponse(
            {
                "code": "invalid_signature",
                "message": "Signature verification failed.",
                "details": {},
            },
            status=400,
        )
    if kind in {"user.created", "user.updated"}:
        user = clerk_user_upsert(data=data)
        outcome = f"user {user.pk} saved"
    elif kind == "user.deleted":
        outcome = (
            "user deleted"
            if clerk_user_delete(clerk_user_id=str(data.get("id", "")))
            else "unknown user"
        )
    else:
        outcome = "ignored"
    return JsonResponse({"received": True, "outcome": outcome})
