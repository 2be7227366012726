"""Endpoints for the load balancer and for Prometheus: /healthz, /readyz and /metrics.

They are answered by ``haat.middleware.OperationsMiddleware`` ahead of the rest of the chain:
no HTTPS redirect, no ``ALLOWED_HOSTS`` check (a balancer's probe carries whatever Host it was
configured with, often none or an address), no session and no CSRF. None of them builds a URL
from the Host header, which is what the host check protects.

/metrics answers only to the networks in ``METRICS_ALLOWED_NETWORKS`` (and, when
``METRICS_TOKEN`` is set, only with ``Authorization: Bearer <token>``); anyone else gets the
shop's ordinary 404, as for any unknown page.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django_prometheus.exports import ExportToDjangoView

from haat import metrics as _shop_counters  # noqa: F401  (registers them before any scrape)
from haat.health import readiness

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def healthz(request: HttpRequest) -> HttpResponse:
    """Alive: the process answers. Touches nothing else, so a slow database never makes the
    balancer restart healthy processes."""
    return _no_store(JsonResponse({"status": "ok"}))


def readyz(request: HttpRequest) -> HttpResponse:
    """Ready: the database answers, Redis too when configured, and no migration is waiting."""
    ok, results = readiness()
    body = {
        "status": "ok" if ok else "unavailable",
        "checks": {name: result.as_dict() for name, result in results.items()},
    }
    return _no_store(JsonResponse(body, status=200 if ok else 503))


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text exposition (all processes' counts in multiprocess mode)."""
    return _no_store(ExportToDjangoView(request))


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def parse_networks(values: Iterable[str]) -> list[IPNetwork]:
    return [ipaddress.ip_network(value.strip(), strict=False) for value in values]


def _address(value: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _within(address: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    return any(address in network for network in networks)


def client_address(request: HttpRequest) -> IPAddress | None:
    """Who is asking: the peer address, or behind a proxy listed in METRICS_TRUSTED_PROXIES,
    the nearest address in X-Forwarded-For that is not one of those proxies. None when it
    cannot be told (then access is refused): a forwarded request from a proxy that is not
    trusted, or a trusted proxy that did not say who its client was."""
    peer = _address(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return None
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    proxies = parse_networks(settings.METRICS_TRUSTED_PROXIES)
    if not _within(peer, proxies):
        # A proxy we were not told about (e.g. HAProxy on this machine, whose connections come
        # from 127.0.0.1) would otherwise make every visitor look local.
        if forwarded or "HTTP_FORWARDED" in request.META or "HTTP_X_REAL_IP" in request.META:
            return None
        return peer
    hops = [_address(hop) for hop in forwarded.split(",")] if forwarded else []
    if not hops or any(hop is None for hop in hops):
        return None
    for hop in reversed(hops):
        assert hop is not None
        if not _within(hop, proxies):
            return hop
    return hops[0]


def metrics_allowed(request: HttpRequest) -> bool:
    address = client_address(request)
    if address is None or not _within(address, parse_networks(settings.METRICS_ALLOWED_NETWORKS)):
        return False
    token = settings.METRICS_TOKEN
    if not token:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)
