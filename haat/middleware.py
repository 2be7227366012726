"""Under /api/, every error answers the API's JSON shape ``{code, message, details}``.

The API's own refusals already do (haat.api maps them). This catches the answers made before or
around it: 404 for unknown paths, 405 for methods an endpoint lacks (django-ninja answers those
itself, as text), 400/413 from Django's request parsing and 500 from Django's error handler.
Pages outside /api/ keep their HTML."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from haat.errors import HTTP_ERRORS

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
