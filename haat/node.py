"""Which app node answered: ``X-Haat-Node`` on every response when ``HAAT_NODE_NAME`` is set.

Behind a load balancer, tests and operators can then tell which node served a request (the
cluster tests check that every node took part). Without the variable nothing is added."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class NodeNameMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.node_name = settings.HAAT_NODE_NAME

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response["X-Haat-Node"] = self.node_name
        return response
