"""Tasks for tests/haat/test_background.py: they record where and how they ran."""

from __future__ import annotations

import threading

calls: list[dict] = []


def record(**kwargs) -> None:
    from accounts.models import User
    from haat import request_id

    calls.append(
        {
            **kwargs,
            "request_id": request_id.current(),
            "thread": threading.current_thread().name,
            "users": list(User.objects.values_list("email", flat=True)),
        }
    )


def explode(**kwargs) -> None:
    raise RuntimeError("boom")
