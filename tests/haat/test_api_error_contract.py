"""Under /api/ every error answers ``{code, message, details}``, also the ones made outside the
API's own handlers (unknown paths, wrong methods, bodies over DATA_UPLOAD_MAX_MEMORY_SIZE,
crashes); pages outside /api/ keep their HTML. The OpenAPI document lists every error answer."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.api_helpers import assert_error

pytestmark = pytest.mark.django_db


def _crash(*args, **kwargs):
    raise RuntimeError("boom")


@pytest.mark.parametrize("path", ["/api/nothing-here", "/api/cart/lines/1/extra", "/api/"])
def test_unknown_api_paths_answer_json_404(shopper_client, path):
    assert_error(shopper_client.get(path), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("put", "/api/cart", {"GET"}),
        ("delete", "/api/state", {"GET"}),
        ("get", "/api/cart/lines/remove", {"POST"}),
        ("post", "/api/orders/1", {"GET"}),
    ],
)
def test_wrong_methods_answer_json_405_with_allow(shopper_client, method, path, allowed):
    response = getattr(shopper_client, method)(path)
    payload = assert_error(response, 405, "method_not_allowed")
    assert set(payload["details"]["allowed"]) == allowed
    assert {m.strip() for m in response["Allow"].split(",")} == allowed


def test_a_body_over_the_limit_answers_json_413_and_changes_nothing(
    shopper_client, shopper, make_product, settings
):
    from cart.selectors import cart_contents

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    product = make_product(stock=5)
    body = json.dumps({"product_id": product.pk, "quantity": 1, "pad": "x" * 2000})
    response = shopper_client.post("/api/cart/lines", body, content_type="application/json")
    payload = assert_error(response, 413, "payload_too_large")
    assert payload["details"] == {"max_bytes": 1000}
    assert cart_contents(user_id=shopper.pk).lines == {}


def test_a_crash_answers_json_500(shopper, monkeypatch):
    monkeypatch.setattr("haat.api.shopper_state", _crash)
    client = Client(raise_request_exception=False)
    client.force_login(shopper)
    assert_error(client.get("/api/state"), 500, "server_error")


def test_pages_outside_the_api_keep_their_html(shopper, make_product, monkeypatch, settings):
    client = Client(raise_request_exception=False)
    client.force_login(shopper)
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404
    assert "couldn't find that page" in missing.content.decode()
    assert client.get("/cart/add/").status_code == 405  # Django's plain 405, as before
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    product = make_product(stock=5)
    too_big = client.post("/cart/add/", {"product_id": product.pk, "note": "x" * 2000})
    assert too_big.status_code == 413
    assert too_big["Content-Type"].startswith("text/html")
    assert "more data than the shop accepts" in too_big.content.decode()
    monkeypatch.setattr("catalog.views.selectors.listing_page", _crash)
    crashed = client.get("/")
    assert crashed.status_code == 500
    assert "Something went wrong" in crashed.content.decode()


def test_a_bad_host_header_gets_400_not_500(db):
    client = Client(raise_request_exception=False)
    assert client.get("/", headers={"host": "evil.example"}).status_code == 400
    assert_error(client.get("/api/state", headers={"host": "evil.example"}), 400, "invalid_request")


def test_the_document_lists_every_error_answer(client):
    document = client.get("/api/openapi.json").json()
    error = document["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "message", "details"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            expected = {"200", "401", "500"}
            if method != "get":
                expected |= {"403", "429", "503"}
            if "requestBody" in operation:
                expected |= {"400", "413"}
            if "{" in path:
                expected |= {"400", "404"}
            assert expected <= set(responses), (method, path, sorted(responses))
            for status, answer in responses.items():
                if status == "200":
                    continue
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)
                assert answer["description"].startswith("Error codes: "), (method, path, status)
    checkout = document["paths"]["/api/checkout"]["post"]["responses"]
    assert "total_too_large" in checkout["400"]["description"]
    assert "insufficient_stock" in checkout["409"]["description"]
