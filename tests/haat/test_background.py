"""haat.background: tasks run outside the request, after the transaction commits, in the
background threads; arguments must be JSON; failures are logged, never raised."""

from __future__ import annotations

import logging

import pytest
from django.db import transaction

from accounts.models import User
from haat.background import enqueue, wait_until_idle
from tests.haat import background_tasks

pytestmark = pytest.mark.django_db(transaction=True)

TASK = "tests.haat.background_tasks.record"


@pytest.fixture(autouse=True)
def threads(settings):
    settings.BACKGROUND_TASKS = "thread"
    background_tasks.calls.clear()
    yield
    assert wait_until_idle()


def test_a_task_runs_in_a_background_thread_after_the_commit_and_sees_its_rows():
    with transaction.atomic():
        User.objects.create_user(email="new@example.com")
        enqueue(TASK, n=1)
        assert wait_until_idle()
        assert background_tasks.calls == []  # not before the commit
    assert wait_until_idle()
    [call] = background_tasks.calls
    assert call["n"] == 1
    assert call["thread"].startswith("haat-background")
    assert call["users"] == ["new@example.com"]


def test_a_rolled_back_transaction_runs_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue(TASK, n=2)
        raise RuntimeError("the request failed")
    assert wait_until_idle()
    assert background_tasks.calls == []


def test_arguments_must_be_json_and_the_task_must_exist():
    with pytest.raises(TypeError):
        enqueue(TASK, user=object())
    with pytest.raises(ImportError):
        enqueue("tests.haat.background_tasks.no_such_task")


def test_a_failing_task_is_logged_and_the_others_still_run(caplog):
    with caplog.at_level(logging.ERROR, logger="haat.background"):
        enqueue("tests.haat.background_tasks.explode")
        enqueue(TASK, n=3)
        assert wait_until_idle()
    assert "Background task tests.haat.background_tasks.explode failed" in caplog.text
    assert [call["n"] for call in background_tasks.calls] == [3]


def test_inline_runs_at_once_in_the_callers_thread(settings):
    settings.BACKGROUND_TASKS = "inline"
    enqueue(TASK, n=4)
    [call] = background_tasks.calls
    assert not call["thread"].startswith("haat-background")


def test_with_a_broker_the_task_goes_to_the_workers_after_the_commit(settings, monkeypatch):
    from haat import request_id
    from haat.celery import run_background_task

    sent: list[tuple] = []
    monkeypatch.setattr(run_background_task, "delay", lambda *args: sent.append(args))
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with request_id.bound("queued-by-this-request"), transaction.atomic():
        enqueue(TASK, n=2)
        assert sent == []  # not before the commit
    assert sent == [(TASK, {"n": 2})]
    assert wait_until_idle() and background_tasks.calls == []  # not also run here


def test_when_the_broker_is_away_the_task_runs_here_instead_of_being_lost(settings, monkeypatch):
    from haat.celery import run_background_task

    def broker_down(*args):
        raise ConnectionError("Redis is restarting")

    monkeypatch.setattr(run_background_task, "delay", broker_down)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    enqueue(TASK, n=3)
    assert wait_until_idle()
    [call] = background_tasks.calls
    assert call["n"] == 3


def test_the_worker_task_runs_the_named_function_under_the_queuing_request_id():
    from haat.celery import run_background_task

    result = run_background_task.apply(
        args=(TASK, {"n": 4}), headers={"haat_request_id": "from-the-request"}
    )
    assert result.successful(), result.traceback
    [call] = background_tasks.calls
    assert call["n"] == 4
    assert call["request_id"] == "from-the-request"
