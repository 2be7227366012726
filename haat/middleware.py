"""Project-wide middleware: the request id with its access log line, the operations endpoints,
"store busy" pages, and the API's JSON error shape."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.middleware.gzip import GZipMiddleware
from django.template import loader
from django.utils.functional import empty

from haat import operations, request_id
from haat.busy import store_busy_from
from haat.errors import HTTP_ERRORS

access_log = logging.getLogger("haat.access")


def _signed_in_user_id(request: HttpRequest) -> int | None:
    """The user id if this request already looked the user up; never a lookup of its own, so
    health checks and static files cost no session or database read."""
    user = request.__dict__.get("user")
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return int(user.pk) if user.is_authenticated else None


@receiver(request_finished, dispatch_uid="haat.request_id.clear")
def _request_finished(**kwargs: object) -> None:
    request_id.clear()


class RequestIdMiddleware:
    """First in the chain: binds the request id for everything below, echoes it in the
    response and writes one access log line per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        # The id stays bound until the response is closed (request_finished): Django logs
        # server errors ("django.request") after the middleware chain has returned.
        rid = request_id.start(request.headers.get(request_id.HEADER))
        request.request_id = rid  # type: ignore[attr-defined]
        try:
            response = self.get_response(request)
        except BaseException:
            request_id.clear()
            raise
        response[request_id.HEADER] = rid
        if request.path in OperationsMiddleware.ENDPOINTS and response.status_code < 400:
            return response  # a balancer probes every few seconds: log only failures
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        access_log.info(
            "%s %s %s %sms",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user_id": _signed_in_user_id(request),
            },
        )
        return response


class OperationsMiddleware:
    """Answers /healthz, /readyz and /metrics before the host check, HTTPS redirect, sessions
    and request metrics (see haat/operations.py). A /metrics request that is not allowed goes
    on down the chain and meets the ordinary 404."""

    ENDPOINTS = {
        "/healthz": operations.healthz,
        "/readyz": operations.readyz,
        "/metrics": operations.metrics,
    }

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        endpoint = self.ENDPOINTS.get(request.path)
        if endpoint is None or request.method not in {"GET", "HEAD"}:
            return self.get_response(request)
        if endpoint is operations.metrics and not operations.metrics_allowed(request):
            return self.get_response(request)
        return endpoint(request)


class StoreBusyMiddleware:
    """Pages whose database work waited too long for a lock answer a friendly 503 with
    ``Retry-After`` (the API answers JSON itself, in haat/api.py)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        busy = store_busy_from(exception)
        if busy is None:
            return None
        logging.getLogger(__name__).warning(
            "store busy on %s %s: %s", request.method, request.path, exception
        )
        # Rendered without the request's context: the page must not touch the database.
        body = loader.get_template("503.html").render({"message": busy.message})
        response = HttpResponse(body, status=busy.http_status)
        response["Retry-After"] = str(busy.retry_after_seconds)
        return response


# --- The API's error shape ----------------------------------------------------------------
# Under /api/, every error answers the API's JSON shape ``{code, message, details}``. The API's
# own refusals already do (haat.api maps them); this catches answers made before or around it:
# 404 for unknown paths, 405 for methods an endpoint lacks (django-ninja answers those itself,
# as text), 400/413 from Django's request parsing and 500 from Django's error handler. Pages
# outside /api/ keep their HTML.
API_PREFIX = "/api/"

# Headers of the original answer that still mean something.
KEPT_HEADERS = ("Allow", "Retry-After")


class ApiErrorShapeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not request.path_info.startswith(API_PREFIX)
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        status = response.status_code
        code, message = HTTP_ERRORS.get(status, ("http_error", response.reason_phrase))
        details: dict[str, object] = {}
        if status == 405 and response.has_header("Allow"):
            details["allowed"] = [m.strip() for m in response["Allow"].split(",") if m.strip()]
        if (
            status == 500
            and settings.DEBUG
            and response.get("Content-Type", "").startswith("text/plain")
        ):
            # Development only: django-ninja's traceback, kept for the developer.
            details["traceback"] = response.content.decode(errors="replace")
        shaped = JsonResponse(
            {"code": code, "message": message, "details": details},
            status=status,
            content_type="application/json; charset=utf-8",
        )
        for header in KEPT_HEADERS:
            if response.has_header(header):
                shaped[header] = response[header]
        shaped.cookies = response.cookies
        return shaped


class PageGZipMiddleware(GZipMiddleware):
    """Compress the HTML pages (a product page: 15 KB, 4 KB gzipped). Static files come
    compressed from whitenoise (at collectstatic), images are compressed already, and the
    API's JSON answers are small. Django's GZipMiddleware pads each answer against BREACH."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        return super().process_response(request, response)
