"""One request id per request: from X-Request-ID (or made up), echoed, on every log record,
and carried into background tasks."""

from __future__ import annotations

import json
import logging
import re

import pytest
from django.http import HttpResponse
from django.urls import path
from prometheus_client import REGISTRY

from haat import request_id
from haat.tasks import task_run
from tests.manage_process import manage

log = logging.getLogger("tests.request_id")


def logging_view(request):
    log.warning("inside the view")
    return HttpResponse("ok")


urlpatterns = [path("log-something", logging_view)]


@pytest.fixture
def records(caplog):
    """Records as the console handler sees them (its filter adds the request id)."""
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(request_id.RequestIdFilter())
    return caplog


@pytest.mark.django_db
def test_a_well_formed_id_from_the_balancer_is_kept_and_echoed(client):
    haproxy_id = "7F000001:C3A2_7F000001:1F90_6752A3C1_0004:2A1B"
    response = client.get("/healthz", HTTP_X_REQUEST_ID=haproxy_id)
    assert response["X-Request-ID"] == haproxy_id


@pytest.mark.django_db
@pytest.mark.parametrize(
    "given",
    ["", "has spaces in it", "x" * 129, "new\nline", "quote\"'", "caf\u00e9"],
)
def test_a_missing_or_malformed_id_is_replaced_by_a_new_one(client, given):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=given)
    assert response["X-Request-ID"] != given
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@pytest.mark.django_db
def test_two_requests_get_two_ids(client):
    assert client.get("/healthz")["X-Request-ID"] != client.get("/healthz")["X-Request-ID"]


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_every_record_during_the_request_carries_its_id(client, records):
    response = client.get("/log-something", HTTP_X_REQUEST_ID="req-123")
    assert response.status_code == 200
    mine = [r for r in records.records if r.name in {"tests.request_id", "haat.access"}]
    assert [r.name for r in mine] == ["tests.request_id", "haat.access"]
    assert all(r.request_id == "req-123" for r in mine)
    assert request_id.current() == ""  # nothing leaks into what runs after the request


@pytest.mark.django_db
def test_server_errors_logged_by_django_after_the_middleware_carry_the_id(
    client, records, monkeypatch
):
    # /readyz answers 503 when a check fails; Django logs 5xx answers once the middleware
    # chain has returned, and that line must carry the id too.
    from haat import health

    def broken() -> None:
        raise ConnectionError("down")

    monkeypatch.setattr(health, "database_check", broken)
    response = client.get("/readyz", HTTP_X_REQUEST_ID="req-503")
    assert response.status_code == 503
    django_lines = [r for r in records.records if r.name == "django.request"]
    assert django_lines and all(r.request_id == "req-503" for r in django_lines)


@pytest.mark.django_db
def test_the_access_line_names_method_path_status_duration_and_user(
    shopper, shopper_client, records
):
    shopper_client.get("/api/cart", HTTP_X_REQUEST_ID="req-cart")
    (line,) = [r for r in records.records if r.name == "haat.access"]
    assert (line.method, line.path, line.status, line.request_id) == (
        "GET",
        "/api/cart",
        200,
        "req-cart",
    )
    assert isinstance(line.duration_ms, float) and line.duration_ms >= 0
    assert line.user_id == shopper.pk


@pytest.mark.django_db
def test_anonymous_requests_log_no_user_and_health_checks_are_not_logged(client, records):
    client.get("/healthz")
    client.get("/no-such-page/")
    lines = [r for r in records.records if r.name == "haat.access"]
    assert [(r.path, r.status, r.user_id) for r in lines] == [("/no-such-page/", 404, None)]


def test_a_task_runs_under_the_id_of_the_request_that_queued_it(records):
    with request_id.bound("req-queued"):
        captured = request_id.current()  # what the code queuing the task passes along
    assert request_id.current() == ""
    with task_run("send_receipt", request_id=captured) as bound:
        logging.getLogger("tests.task").info("sending")
        assert bound == "req-queued" == request_id.current()
    assert request_id.current() == ""
    task_lines = [r for r in records.records if r.name in {"tests.task", "haat.tasks"}]
    assert [r.request_id for r in task_lines] == ["req-queued", "req-queued"]


def test_a_task_outside_any_request_gets_an_id_of_its_own():
    with task_run("nightly") as first, task_run("nightly") as second:
        assert first and second and first != second


def test_task_runs_and_failures_are_counted():
    def runs(outcome: str) -> float:
        value = REGISTRY.get_sample_value("haat_tasks_total", {"task": "flaky", "outcome": outcome})
        return value or 0.0

    ok, failed = runs("ok"), runs("failed")
    with task_run("flaky"):
        pass
    with pytest.raises(ZeroDivisionError), task_run("flaky"):
        _ = 1 / 0
    assert (runs("ok"), runs("failed")) == (ok + 1, failed + 1)


def test_bound_restores_the_id_that_was_there_before():
    with request_id.bound("outer"):
        with request_id.bound("inner"):
            assert request_id.current() == "inner"
        assert request_id.current() == "outer"


def test_production_logs_are_json_lines_with_the_request_id(tmp_path):
    """The real settings in a fresh process: LOG_FORMAT defaults to json in production."""
    script = (
        "from django.test import Client\n"
        "Client().get('/api/cart', HTTP_X_REQUEST_ID='req-json', "
        "HTTP_HOST='shop.example.com', secure=True)\n"
    )
    result = manage(
        "shell",
        "-c",
        script,
        HAAT_ENV="production",
        SECRET_KEY="x" * 20 + "a-long-random-production-secret-value-0123456789",
        ALLOWED_HOSTS="shop.example.com",
        HAAT_DATA_DIR=str(tmp_path),
        DATABASE_URL="",
        PAYMENT_GATEWAY="test",
        ALLOW_TEST_PAYMENTS_IN_PRODUCTION="true",
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    (access,) = [line for line in lines if line["logger"] == "haat.access"]
    assert access["request_id"] == "req-json"
    assert access["method"] == "GET" and access["path"] == "/api/cart"
    assert access["status"] == 401 and access["user_id"] is None
    assert {"time", "level", "message", "duration_ms"} <= set(access)


def test_development_logs_are_plain_text(tmp_path):
    result = manage(
        "shell",
        "-c",
        "from django.test import Client; Client().get('/api/cart', HTTP_X_REQUEST_ID='req-text')",
        HAAT_DATA_DIR=str(tmp_path),
        DATABASE_URL="",
    )
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "haat.access" in line]
    assert "[req-text] GET /api/cart 401" in line
    assert not line.startswith("{")


def test_an_unknown_log_format_is_a_clear_error(tmp_path):
    result = manage("check", LOG_FORMAT="xml", HAAT_DATA_DIR=str(tmp_path), DATABASE_URL="")
    assert result.returncode != 0
    assert "LOG_FORMAT must be 'json' or 'text'" in result.stderr
