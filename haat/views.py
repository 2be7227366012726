"""Project-wide error pages (``handler400``; the other codes use Django's defaults and the
templates in templates/). Under /api/, haat.middleware turns any of them into the JSON shape."""

from __future__ import annotations

from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from haat.errors import InvalidInput, message


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Malformed input (``InvalidInput`` from a form, a body over DATA_UPLOAD_MAX_MEMORY_SIZE,
    a bad Host header…): say what was wrong, offer the way back. Nothing was changed."""
    status = 413 if isinstance(exception, RequestDataTooBig) else 400
    if isinstance(exception, InvalidInput):
        text = exception.message
    elif status == 413:
        text = message("payload_too_large.page")
    else:
        text = message("invalid_request")
    try:
        hosts = {request.get_host()}
    except DisallowedHost:
        hosts = set()
    back = request.META.get("HTTP_REFERER", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts=hosts, require_https=request.is_secure()
    ):
        back = ""  # back into this shop only, never to another site
    return render(request, "400.html", {"message": text, "back_url": back}, status=status)


def bench_floor(request: HttpRequest) -> HttpResponse:
    """The benchmark's floor (only routed with BENCH_FLOOR_ENDPOINT): the whole middleware stack,
    the session and its user loaded, one trivial query. Answers "ok" and nothing else, so it
    tells nobody anything; every page's cost is measured against it."""
    signed_in = request.user.is_authenticated
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HttpResponse("ok" if signed_in else "ok, signed out", content_type="text/plain")
