"""Schemathesis generates requests from the served OpenAPI document (bounded in examples) and
checks that no server error comes back and that answers match the documented schemas."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from haat.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@pytest.fixture
def signed_in_cookies(db, make_user, make_product):
    for stock in (0, 1, 5):
        make_product(stock=stock)
    client = Client()
    client.force_login(make_user())
    client.get("/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    # Calls go through the real WSGI handler, which would close the database connection after
    # each request (and with it the test's transaction); Django's test client avoids it alike.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield {"sessionid": client.cookies["sessionid"].value, "csrftoken": token}, token
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_errors_and_matches_its_schema(case, signed_in_cookies):
    cookies, token = signed_in_cookies
    case.call_and_validate(
        headers={"X-CSRFToken": token},
        cookies=cookies,
        checks=[not_a_server_error, response_schema_conformance],
    )
