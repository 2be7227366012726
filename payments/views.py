"""Webhook endpoints and the test gateway's hosted payment page."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from payments import services
from payments.gateways import InvalidSignature, MalformedEvent
from payments.models import TestPaymentSession

log = logging.getLogger(__name__)


def _webhook(request: HttpRequest, gateway_name: str) -> HttpResponse:
    try:
        outcome = services.webhook_receive(
            gateway_name=gateway_name,
            payload=request.body,
            signature=request.headers.get("Stripe-Signature", ""),
        )
    except InvalidSignature as error:
        log.warning("Rejected %s webhook: %s", gateway_name, error.details.get("reason"))
        # Which check failed stays in the log: the answer does not help a forger.
        return JsonResponse({**error.as_dict(), "details": {}}, status=error.http_status)
    except MalformedEvent as error:
        log.warning("Rejected malformed %s webhook: %s", gateway_name, error)
        return JsonResponse(error.as_dict(), status=error.http_status)
    return JsonResponse({"received": True, "outcome": outcome.value})


@csrf_exempt  # authenticated by the signature on the raw body instead
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    if settings.PAYMENT_GATEWAY != "stripe" and not settings.STRIPE_WEBHOOK_SECRET:
        raise Http404("Stripe is not configured.")
    return _webhook(request, "stripe")


@csrf_exempt  # authenticated by the signature on the raw body instead
@require_POST
def gateway_test_webhook(request: HttpRequest) -> HttpResponse:
    return _webhook(request, "test")


@require_http_methods(["GET", "POST"])
def gateway_test_page(request: HttpRequest, session_id: str) -> HttpResponse:
    """A hosted payment page in Haat's style that behaves like Stripe Checkout's test mode."""
    if settings.PAYMENT_GATEWAY != "test":
        raise Http404("The test gateway is not enabled.")
    session = get_object_or_404(
        TestPaymentSession.objects.select_related("order"), session_id=session_id
    )
    if session.order.user_id != request.user.pk:
        raise Http404("No such payment.")
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            return redirect(session.cancel_url)
        paid, _ = services.pay_with_test_card(
            session_id=session_id, card_number=request.POST.get("card_number", "")
        )
        if paid:
            return redirect(session.success_url.replace("{CHECKOUT_SESSION_ID}", session_id))
        # A decline leaves the session open: the page shows why (the session's last error, kept
        # until a card pays), with the card form for another try and a way to cancel the order.
        return redirect(request.path)
    context = {
        "session": session,
        "order": session.order,
        "lines": list(session.order.lines.all()),
        # Past its expires_at a session takes no payment, whether or not the job ended it yet.
        "timed_out": session.expires_at <= timezone.now(),
    }
    return render(request, "payments/test_gateway.html", context)
