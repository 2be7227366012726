"""Tasks for tests/haat/test_background.py: they record where and how they ran."""

from __future__ import annotations

import threading

calls: list[dict] = []


def record(**kwargs) -> None:
    from accounts.models import User

    calls.append(
        {
            **kwargs,
            "thread": threading.current_thread().name,
            "users": list(User.objects.values_list("email", flat=True)),
        }
    )


def explode(**kwargs) -> None:
    raise RuntimeError("boom")
