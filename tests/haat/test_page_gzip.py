"""Pages go out gzipped to browsers that take it; images and the API's JSON as they are."""

from __future__ import annotations

import gzip

import pytest

pytestmark = pytest.mark.django_db


def test_pages_are_gzipped_for_browsers_that_accept_it(client, make_product):
    product = make_product(name="Steel Kettle")
    response = client.get(product.get_absolute_url(), headers={"Accept-Encoding": "gzip, br"})
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert "Steel Kettle" in gzip.decompress(response.content).decode()
    plain = client.get(product.get_absolute_url())
    assert not plain.has_header("Content-Encoding")


def test_api_answers_are_not_gzipped(client):
    response = client.get("/api/state", headers={"Accept-Encoding": "gzip"})
    assert not response.has_header("Content-Encoding")
