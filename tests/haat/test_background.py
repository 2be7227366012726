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
