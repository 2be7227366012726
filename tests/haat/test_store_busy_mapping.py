"""Which errors become 503 store_busy, and that every other database error stays a 500."""

from __future__ import annotations

import psycopg
import pytest
from django.db import OperationalError
from django.urls import path

from haat.busy import store_busy_from
from haat.errors import StoreBusy


def wrapped(cause: Exception) -> OperationalError:
    """A database error as Django raises it: psycopg's error as the cause."""
    error = OperationalError(str(cause))
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    "cause", [psycopg.errors.LockNotAvailable(), psycopg.errors.QueryCanceled()]
)
def test_lock_and_statement_timeouts_are_store_busy(cause):
    busy = store_busy_from(wrapped(cause))
    assert isinstance(busy, StoreBusy)
    assert busy.as_dict() == {
        "code": "store_busy",
        "message": "Many people are changing this right now. Please try again in a moment.",
        "details": {},
    }
    assert busy.http_status == 503


@pytest.mark.parametrize(
    "error",
    [
        wrapped(psycopg.errors.DeadlockDetected()),
        wrapped(psycopg.errors.AdminShutdown()),
        OperationalError("database is locked"),  # SQLite: no SQLSTATE
        ValueError("not a database error"),
    ],
)
def test_other_errors_are_not(error):
    assert store_busy_from(error) is None


def test_the_sanity_store_refusal_is_the_same_rule():
    from haat.store.sanity import StoreBusy as SanityStoreBusy

    assert SanityStoreBusy is StoreBusy


def busy_page(request):
    raise wrapped(psycopg.errors.LockNotAvailable())


def broken_page(request):
    raise wrapped(psycopg.errors.AdminShutdown())


urlpatterns = [path("busy", busy_page), path("broken", broken_page)]


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_page_that_meets_a_lock_timeout_answers_503_busy(client):
    response = client.get("/busy")
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert "Many people are changing this right now" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_page_that_meets_another_database_error_is_a_500(client):
    client.raise_request_exception = False
    assert client.get("/broken").status_code == 500


def test_the_api_maps_lock_timeouts_and_lets_other_errors_through(rf):
    from haat.api import _database_busy

    request = rf.post("/api/cart/lines")
    response = _database_busy(request, wrapped(psycopg.errors.LockNotAvailable()))
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    with pytest.raises(OperationalError):
        _database_busy(request, wrapped(psycopg.errors.AdminShutdown()))
