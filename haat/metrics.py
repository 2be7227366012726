"""The shop's own Prometheus counters, next to django-prometheus's request and database metrics.

Services count an event where it happens with ``count(COUNTER, label=value)``. Inside a
transaction the count is made when it commits, so a change that was rolled back is never
counted. With several worker processes, set ``PROMETHEUS_MULTIPROC_DIR`` (production does by
default, see settings): every process then writes its counts to files there and ``/metrics``
adds them up, whichever process answers the scrape.
"""

from __future__ import annotations

from django.db import transaction
from prometheus_client import Counter, disable_created_metrics

# A "_created" timestamp next to every series only doubles what a scrape carries.
disable_created_metrics()

CHECKOUTS = Counter(
    "haat_checkouts",
    "Checkouts: started (stock reserved, payment page opened), refused (stock short, nothing "
    "reserved), failed (the payment page could not be opened; the reservation was released).",
    ["outcome"],
)
RESERVATIONS = Counter(
    "haat_reservations",
    "Stock reservations: made, released (every release: payment failed or abandoned, replaced, "
    "expired), expired (released because their time ran out), converted (paid: sold).",
    ["event"],
)
PAYMENTS = Counter(
    "haat_payments",
    "Payment outcomes: paid (order fulfilled), failed (declined or failed), expired (the payment "
    "session ran out), refund_due (paid after the reservation ended and the stock was gone), "
    "mismatched (a signed event that does not match its order: amount, currency or session; "
    "not applied, flagged for staff).",
    ["outcome"],
)
REFUNDS = Counter("haat_refunds", "Refunds through the gateway: done, failed.", ["outcome"])
TASKS = Counter(
    "haat_tasks",
    "Background task runs by task and outcome: ok, failed.",
    ["task", "outcome"],
)

LABELS: dict[Counter, dict[str, tuple[str, ...]]] = {
    CHECKOUTS: {"outcome": ("started", "refused", "failed")},
    RESERVATIONS: {"event": ("made", "released", "expired", "converted")},
    PAYMENTS: {"outcome": ("paid", "failed", "expired", "refund_due", "mismatched")},
    REFUNDS: {"outcome": ("done", "failed")},
    TASKS: {"outcome": ("ok", "failed")},  # and any task name
}

# Every known series starts at 0, so a rate is defined before the first event.
for _counter, _labels in LABELS.items():
    if _counter is not TASKS:
        ((_name, _values),) = _labels.items()
        for _value in _values:
            _counter.labels(**{_name: _value})


# Each series once looked up (every checkout counts three): by counter and label values.
_SERIES: dict[tuple[Counter, tuple[tuple[str, str], ...]], Counter] = {}


def _series(counter: Counter, labels: dict[str, str]) -> Counter:
    key = (counter, tuple(labels.items()))
    series = _SERIES.get(key)
    if series is not None:
        return series
    # Unknown label values are a programming error: refused, so a typo never makes a new series.
    for name, value in labels.items():
        allowed = LABELS[counter].get(name)
        if allowed is not None and value not in allowed:
            raise ValueError(f"{value!r} is not a known {name} of {counter._name}")
    series = _SERIES[key] = counter.labels(**labels)
    return series


def count(counter: Counter, amount: int = 1, **labels: str) -> None:
    """Count a change: once the current transaction commits (at once outside one)."""
    series = _series(counter, labels)
    transaction.on_commit(lambda: series.inc(amount))


def count_now(counter: Counter, amount: int = 1, **labels: str) -> None:
    """Count a refusal or failure: at once, since its transaction (if any) is rolled back."""
    _series(counter, labels).inc(amount)
