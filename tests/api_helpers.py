"""Small helpers for calling the JSON API from tests."""

from __future__ import annotations

import json
from typing import Any


def call(client, method: str, path: str, body: Any = None, raw: str | None = None):
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    kwargs = {"content_type": "application/json"} if data is not None else {}
    return (
        getattr(client, method.lower())(path, data, **kwargs)
        if data is not None
        else getattr(client, method.lower())(path)
    )


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    payload = response.json()
    assert set(payload) == {"code", "message", "details"}, payload
    assert payload["code"] == code, payload
    assert payload["message"]
    return payload
