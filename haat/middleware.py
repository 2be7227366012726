"""Under /api/, every error answers the API's JSON shape ``{code, message, details}``.

The API's own refusals already do (haat.api maps them). This catches the answers made before or
around it: 404 for unknown paths, 405 for methods an endpoint lacks (django-ninja answers those
itself, as text), 400/413 from Django's request parsing and 500 from Django's error handler.
Pages outside /api/ keep their HTML."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

API_PREFIX = "/api/"

# Status → (code, message) for errors that carry no JSON body of their own.
ERRORS = {
    400: ("invalid_request", "The request could not be understood."),
    403: ("forbidden", "You may not do that."),
    404: ("not_found", "Nothing here."),
    405: ("method_not_allowed", "This address does not accept that method."),
    413: ("payload_too_large", "The request body is too large."),
    429: ("rate_limited", "Too many requests. Wait a moment and try again."),
    500: ("server_error", "Something went wrong on our side. Please try again."),
    503: ("unavailable", "The shop is busy. Please try again in a moment."),
}
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
        code, message = ERRORS.get(status, ("http_error", response.reason_phrase))
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
