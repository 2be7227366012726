"""The storage contract is tested per backend: the database, and Sanity (through the local
stand-in that keeps Sanity's semantics)."""

from __future__ import annotations

import pytest

from haat.store import get_store
from tests.conftest import use_sanity

BACKENDS = ["database", "sanity"]


@pytest.fixture(params=BACKENDS)
def store(request, settings, db):
    if request.param == "sanity":
        use_sanity(settings, request.getfixturevalue("sanity_standin"))
    else:
        settings.STORE_BACKEND = "database"
    return get_store()
