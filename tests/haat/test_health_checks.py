"""/healthz (alive) and /readyz (database, Redis, migrations) for the load balancer."""

from __future__ import annotations

import socket
import time

import pytest
from django.db import OperationalError, connection
from django.db.migrations.recorder import MigrationRecorder

from haat import health

REDIS_URL = "redis://127.0.0.1:6379/6"


def closed_port() -> int:
    """A local port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def _fresh_migrations_answer(monkeypatch):
    monkeypatch.setattr(health, "_migrations_done", False)


@pytest.fixture
def production_like(settings):
    """What trips balancer probes in production: a strict host list and the HTTPS redirect."""
    settings.ALLOWED_HOSTS = ["shop.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    return settings


@pytest.mark.django_db
def test_healthz_answers_ok_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_over_plain_http_with_any_host(client, production_like, path):
    # HAProxy probes a server by its address, over HTTP, often with no Host header at all.
    for host in ("10.0.0.7:8000", "", "evil.example.net"):
        response = client.get(path, HTTP_HOST=host) if host else client.get(path)
        assert response.status_code == 200, (host, response.status_code)


@pytest.mark.django_db
def test_the_rest_of_the_shop_still_checks_the_host_and_redirects(client, production_like):
    assert client.get("/", HTTP_HOST="evil.example.net").status_code == 400
    assert client.get("/", HTTP_HOST="shop.example.com").status_code == 301


@pytest.mark.django_db
def test_readyz_reports_each_check(client, settings):
    settings.REDIS_URL = ""
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "migrations"}  # no Redis configured
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.django_db
def test_readyz_pings_redis_when_it_is_configured(client, settings):
    settings.REDIS_URL = REDIS_URL
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["redis"]["ok"] is True


@pytest.mark.django_db
def test_readyz_fails_fast_when_redis_does_not_answer(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < 3
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["redis"]["error"] == "ConnectionError"
    assert body["checks"]["database"]["ok"] is True  # the others still ran


@pytest.mark.django_db
def test_readyz_fails_when_the_database_does_not_answer(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {
        "ok": False,
        "ms": response.json()["checks"]["database"]["ms"],
        "error": "OperationalError",
    }


@pytest.mark.django_db
def test_readyz_fails_while_a_migration_is_waiting(client):
    from django.db.migrations.loader import MigrationLoader

    # The app's latest migration is recorded as not applied (as after deploying new code).
    (latest,) = MigrationLoader(connection).graph.leaf_nodes("orders")
    MigrationRecorder.Migration.objects.filter(app="orders", name=latest[1]).delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"]["error"] == "MigrationsPending"


@pytest.mark.django_db
def test_migrations_are_looked_up_only_until_they_are_done(client, monkeypatch):
    from django.db.migrations import executor

    built = []
    real = executor.MigrationExecutor

    def counting(*args, **kwargs):
        built.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(executor, "MigrationExecutor", counting)
    for _ in range(3):
        assert client.get("/readyz").status_code == 200
    assert len(built) == 1


@pytest.mark.django_db
def test_probes_answer_only_get_and_head(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 404
