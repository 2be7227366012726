"""The storage contract is tested per backend; a backend joins by adding itself to BACKENDS."""

from __future__ import annotations

import pytest

from haat.store import get_store

BACKENDS = ["database"]


@pytest.fixture(params=BACKENDS)
def store(request, settings, db):
    settings.STORE_BACKEND = request.param
    return get_store()
