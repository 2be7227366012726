"""Schemathesis generates requests from the served OpenAPI document (valid ones and ones that break
it, bounded in examples) and runs all its checks on the answers: no server error, every status
code documented, every body matching its documented schema, valid requests accepted, invalid
ones refused, authentication enforced, unsupported methods answered 405."""

from __future__ import annotations

from datetime import timedelta

import pytest
import schemathesis
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore
from django.contrib.sessions.models import Session
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from cart.services import cart_add_line
from haat.wsgi import application
from wishlist.services import wishlist_toggle

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
    positive_data_acceptance,
    negative_data_rejection,
    ignored_auth,
    unsupported_method,
]
# Some cases are generated when tests are collected, before any shopper exists: each test signs
# its new shopper in under these fixed values (the CSRF header may carry the bare secret).
SESSION = {
    "sessionid": "schemathesis0shopper0session0key",
    "csrftoken": "schemathesis0csrf0secret00000000",
}


@schema.auth(refresh_interval=None)
class SessionCookie:
    """The session cookie the document declares as its security scheme, given to schemathesis as
    authentication, so its auth checks can take it away and expect a 401."""

    def get(self, case, context) -> dict[str, str]:
        return SESSION

    def set(self, case, data: dict[str, str], context) -> None:
        case.cookies = {**(case.cookies or {}), **data}
        case.headers = {**(case.headers or {}), "X-CSRFToken": data["csrftoken"]}


@pytest.fixture
def signed_in(db, make_user, make_product):
    products = [make_product(stock=stock) for stock in (0, 1, 5)]
    user = make_user()
    # The session under the fixed key (an earlier test's copy may still be cached).
    SessionStore(session_key=SESSION["sessionid"]).delete()
    signed_in_as_user = {
        SESSION_KEY: str(user.pk),
        BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
        HASH_SESSION_KEY: user.get_session_auth_hash(),
    }
    Session.objects.create(
        session_key=SESSION["sessionid"],
        session_data=SessionStore().encode(signed_in_as_user),
        expire_date=timezone.now() + timedelta(hours=1),
    )
    cart_add_line(user_id=user.pk, product_id=products[2].pk, quantity=1)
    wishlist_toggle(user_id=user.pk, product_id=products[1].pk)
    # Calls go through the real WSGI handler, which would close the database connection after
    # each request (and with it the test's transaction); Django's test client avoids it alike.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_matches_its_document(case, signed_in):
    case.call_and_validate(checks=CHECKS)
