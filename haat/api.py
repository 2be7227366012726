"""Haat's JSON API (django-ninja): session auth with CSRF, OpenAPI at /api/openapi.json.

Every refusal leaves here as ``{"code", "message", "details"}``: domain errors carry their own
code, status and details; validation, authentication and parsing failures are mapped below, in
this one place, by their type (never by their wording). Messages come from the catalogue in
``haat.errors``.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import django_auth

from accounts.selectors import shopper_state
from cart.api import router as cart_router
from catalog.api import router as catalog_router
from checkout.api import router as checkout_router
from haat.busy import store_busy_from
from haat.errors import HTTP_ERRORS, DomainError, StoreBusy, message
from haat.limits import RateLimited, rate_limited_response
from haat.schemas import READ, answers, shopper_id
from haat.validation import quantity_message
from orders.api import router as orders_router
from wishlist.api import router as wishlist_router

api = NinjaAPI(
    title="Haat API",
    version="1",
    description=(
        "Cart, wishlist and page state for signed-in shoppers. Money is in minor units with "
        "its currency. Errors are {code, message, details} with stable codes."
    ),
    auth=django_auth,
    urls_namespace="api",
)


# Pydantic's error types for a body that is not JSON (or not a JSON document at all).
JSON_ERROR_TYPES = {"json_invalid", "json_type"}


def _error(
    request: HttpRequest, status: int, code: str, text: Any = None, **details: Any
) -> HttpResponse:
    """The answer ``{code, message, details}``; the message is the catalogue's for ``code``
    unless ``text`` is given."""
    text = message(code) if text is None else str(text)
    return api.create_response(
        request, {"code": code, "message": text, "details": details}, status=status
    )


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    response = api.create_response(request, exc.as_dict(), status=exc.http_status)
    if isinstance(exc, StoreBusy):
        response["Retry-After"] = str(exc.retry_after_seconds)
    return response


@api.exception_handler(OperationalError)
def _database_busy(request: HttpRequest, exc: OperationalError) -> HttpResponse:
    busy = store_busy_from(exc)
    if busy is None:
        raise exc  # a real fault: the usual 500 and its log
    return _domain_error(request, busy)


@api.exception_handler(RateLimited)
def _rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    return rate_limited_response(request, exc)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = []
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ()) if part not in {"body", "payload"}]
        problems.append({"field": ".".join(location) or "body", "problem": error.get("msg", "")})
    fields = {problem["field"] for problem in problems}
    if fields and all(field.endswith("quantity") for field in fields):
        return _error(request, 400, "invalid_quantity", quantity_message(), errors=problems)
    if any(error.get("type") in JSON_ERROR_TYPES for error in exc.errors):
        return _error(request, 400, "malformed_json", errors=problems)
    summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems[:5])
    text = message("invalid_request.fields", summary=summary)
    return _error(request, 400, "invalid_request", text, errors=problems)


@api.exception_handler(json.JSONDecodeError)
def _malformed_json(request: HttpRequest, exc: json.JSONDecodeError) -> HttpResponse:
    return _error(request, 400, "malformed_json")


@api.exception_handler(AuthenticationError)
def _not_signed_in(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "not_authenticated")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # django-ninja raises HttpError(400) from the parser's own error for a body it cannot read
    # (json.JSONDecodeError, UnicodeDecodeError: both ValueErrors).
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
        return _error(request, 400, "malformed_json")
    if exc.status_code == 403:  # the only 403 django-ninja raises here: session auth's CSRF
        return _error(request, 403, "csrf_failed")
    return _error(request, exc.status_code, "http_error", str(exc))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, *HTTP_ERRORS[404])


@api.exception_handler(RequestDataTooBig)
def _too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _error(request, 413, *HTTP_ERRORS[413], max_bytes=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


class StateOut(Schema):
    cart: dict[str, int]
    wishlist: list[int]
    cart_count: int
    cart_lines: int
    wishlist_count: int
    cart_version: int
    wishlist_version: int
    version: int


@api.get(
    "/state",
    **answers(StateOut, *READ),
    tags=["state"],
    summary="Compact state for the page's local store",
)
def state(request: HttpRequest) -> dict[str, Any]:
    return shopper_state(shopper_id(request))


api.add_router("/cart", cart_router)
api.add_router("/products", catalog_router)
api.add_router("/wishlist", wishlist_router)
api.add_router("/checkout", checkout_router)
api.add_router("/orders", orders_router)
