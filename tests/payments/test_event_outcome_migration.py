"""The migration to outcome codes keeps what every recorded payment event said."""

from __future__ import annotations

import pytest

from tests.migration_helpers import migrate_app

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def old_schema():
    apps = migrate_app("payments", "0001_initial")
    yield apps
    migrate_app("payments", None)


def test_prose_outcomes_become_codes_and_the_prose_is_kept(old_schema):
    PaymentEvent = old_schema.get_model("payments", "PaymentEvent")
    prose = {
        "evt_1": "fulfilled: order paid",
        "evt_2": "waiting: payment not yet settled",
        "evt_3": "released: order cancelled",
        "evt_4": "ignored: no such order",
        "evt_5": "ignored: event type",
        "evt_6": "",
    }
    for event_id, outcome in prose.items():
        PaymentEvent.objects.create(gateway="test", event_id=event_id, type="t.x", outcome=outcome)

    apps = migrate_app("payments", "0002_event_outcome_codes")
    PaymentEvent = apps.get_model("payments", "PaymentEvent")
    rows = {
        event_id: (outcome, detail)
        for event_id, outcome, detail in PaymentEvent.objects.values_list(
            "event_id", "outcome", "detail"
        )
    }
    assert rows == {
        "evt_1": ("fulfilled", "fulfilled: order paid"),
        "evt_2": ("waiting", "waiting: payment not yet settled"),
        "evt_3": ("released", "released: order cancelled"),
        "evt_4": ("no_order", "ignored: no such order"),
        "evt_5": ("ignored", "ignored: event type"),
        "evt_6": ("", ""),
    }
    assert not PaymentEvent.objects.filter(needs_attention=True).exists()
