"""Which tests ran, on which backend: a pytest plugin and a comparison of two inventories.

As a plugin (``-p scripts.test_inventory``, with HAAT_TEST_INVENTORY=<dir>), every pytest run
appends one line per test to <dir>/<pid>.tsv: backend (``sqlite+database``,
``postgresql+sanity``, ...), node id, outcome (passed, failed, skipped) and the methods of the
store interface (haat/store) that the test body called in the test process (set-up excluded:
fixtures that make products call it too). Under pytest-xdist the controller writes the lines of
all workers.

As a script, it compares two inventory directories, e.g. before and after a change to the test
runner:

    python scripts/test_inventory.py BEFORE_DIR AFTER_DIR

It lists every test that ran (passed or failed) before but runs nowhere after (exit status 1
if there is one), and counts the tests that run on fewer backends than before (with -v: names
them), so that each such move can be checked against the rules of scripts/run_tests.py.
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from pathlib import Path

import pytest

_rows: list[str] = []
_backend = ""
_store_calls: set[str] = set()
_tracing = False


def pytest_configure(config) -> None:
    global _backend
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1].replace("sqlite3", "sqlite")
    _backend = f"{engine}+{os.environ.get('HAAT_TEST_STORE') or 'database'}"
    _trace_store_calls()


def _trace_store_calls() -> None:
    import functools

    from haat.store.base import Store
    from haat.store.database import DatabaseStore
    from haat.store.sanity import SanityStore

    names = [n for n in vars(Store) if not n.startswith("_") and callable(getattr(Store, n))]
    for cls in (DatabaseStore, SanityStore):
        for name in names:
            method = getattr(cls, name)

            @functools.wraps(method)
            def traced(*args, _method=method, _name=name, **kwargs):
                if _tracing:
                    _store_calls.add(_name)
                return _method(*args, **kwargs)

            setattr(cls, name, traced)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item) -> None:
    global _tracing
    _store_calls.clear()
    _tracing = True


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item) -> None:
    global _tracing
    _tracing = False
    item.user_properties.append(("store_calls", ",".join(sorted(_store_calls))))


def pytest_runtest_logreport(report) -> None:
    if report.when == "teardown":
        calls = dict(report.user_properties).get("store_calls", "")
        if _pending.get(report.nodeid):
            _rows.append(f"{_pending.pop(report.nodeid)}\t{calls}\n")
    elif report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _pending[report.nodeid] = f"{_backend}\t{report.nodeid}\t{report.outcome}"


_pending: dict[str, str] = {}


def pytest_sessionfinish(session) -> None:
    if hasattr(session.config, "workerinput"):
        return  # the controller has the reports of every worker
    directory = Path(os.environ["HAAT_TEST_INVENTORY"])
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / f"{os.getpid()}.tsv").open("a", encoding="utf-8") as out:
        out.writelines(_rows)


def executed(directory: Path) -> dict[str, set[str]]:
    """Node id -> the backends it ran on (skipped tests did not run)."""
    ran: dict[str, set[str]] = defaultdict(set)
    for path in sorted(directory.glob("*.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines():
            backend, nodeid, outcome = line.split("\t")[:3]
            backend = backend.replace("sqlite3", "sqlite")
            if outcome != "skipped":
                ran[nodeid].add(backend)
    return ran


def summary(ran: dict[str, set[str]]) -> str:
    per_backend: dict[str, int] = defaultdict(int)
    for backends in ran.values():
        for backend in backends:
            per_backend[backend] += 1
    runs = sum(per_backend.values())
    parts = ", ".join(f"{b}: {n}" for b, n in sorted(per_backend.items()))
    return f"{len(ran)} distinct tests, {runs} test runs ({parts})"


def main(before_dir: str, after_dir: str, *, verbose: bool = False) -> int:
    before, after = executed(Path(before_dir)), executed(Path(after_dir))
    print(f"before: {summary(before)}")
    print(f"after:  {summary(after)}")
    dropped = sorted(set(before) - set(after))
    for nodeid in dropped:
        print(f"DROPPED {nodeid} (ran before on {', '.join(sorted(before[nodeid]))})")
    lost: dict[str, list[str]] = defaultdict(list)
    for nodeid in sorted(set(before) & set(after)):
        for backend in sorted(before[nodeid] - after[nodeid]):
            lost[backend].append(nodeid)
    for backend, nodeids in sorted(lost.items()):
        print(f"{len(nodeids)} tests no longer run on {backend} (they still run elsewhere)")
        if verbose:
            print("".join(f"    {nodeid}\n" for nodeid in nodeids), end="")
    new = set(after) - set(before)
    print(f"{len(dropped)} tests dropped, {len(new)} tests new")
    return 1 if dropped else 0


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "-v"]
    if len(arguments) != 2:
        sys.exit(__doc__)
    sys.exit(main(*arguments, verbose="-v" in sys.argv))
