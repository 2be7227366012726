"""Where the test run's CPU goes, test by test, including what each test starts.

A pytest plugin: every pytest process (each xdist worker) moves itself into a cgroup of its own
(cgroup v1 ``cpuacct``, which needs root), so the CPU of everything it starts afterwards (the
live server's threads, Chromium and its renderers, gunicorn, ``manage.py``, Celery) counts to
it whether or not it has been reaped, and each test's share is the cgroup's CPU before and
after it. PostgreSQL's own CPU is not in it (its server is not a child). One JSON line a test
goes to ``$HAAT_TEST_CPU_DIR/cpu-<pid>.jsonl`` (default: haat-test-cpu in the temporary folder).

    PYTHONPATH=scripts .venv/bin/python scripts/run_tests.py --pass postgresql -p test_cpu_profile
    .venv/bin/python scripts/test_cpu_profile.py [DIR]      # the report: folders, modules, tests

Run it on a machine doing nothing else: CPU time is steadier than wall time, not immune.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CPUACCT = Path("/sys/fs/cgroup/cpuacct")
OUTPUT = Path(os.environ.get("HAAT_TEST_CPU_DIR") or Path(tempfile.gettempdir()) / "haat-test-cpu")
_state: dict[str, Any] = {}


def _usage() -> float:
    return int((_state["group"] / "cpuacct.usage").read_text()) / 1e9


def pytest_configure(config: Any) -> None:
    group = CPUACCT / f"haat-test-{os.getpid()}"
    try:
        group.mkdir(exist_ok=True)
        (group / "cgroup.procs").write_text(str(os.getpid()))
    except OSError as error:
        raise SystemExit(
            f"test_cpu_profile: no cgroup at {group} ({error}); it needs root"
        ) from None
    OUTPUT.mkdir(parents=True, exist_ok=True)
    _state.update(group=group, out=(OUTPUT / f"cpu-{os.getpid()}.jsonl").open("a"))


def pytest_unconfigure(config: Any) -> None:
    if "group" in _state:
        _state["out"].close()
        (CPUACCT / "cgroup.procs").write_text(str(os.getpid()))  # back out, so it can go
        with contextlib.suppress(OSError):  # something it started still runs in it
            _state["group"].rmdir()


def pytest_runtest_protocol(item: Any, nextitem: Any) -> Any:
    _state["start"] = (_usage(), time.monotonic())


def pytest_runtest_logfinish(nodeid: str, location: Any) -> None:
    cpu, wall = _state.pop("start", (_usage(), time.monotonic()))
    record = {"id": nodeid, "cpu": _usage() - cpu, "wall": time.monotonic() - wall}
    _state["out"].write(json.dumps(record) + "\n")
    _state["out"].flush()


def report(folder: Path) -> None:
    rows = [json.loads(line) for file in folder.glob("cpu-*.jsonl") for line in file.open()]
    print(
        f"{len(rows)} tests, {sum(r['cpu'] for r in rows):.0f} CPU s, "
        f"{sum(r['wall'] for r in rows):.0f} s of test wall time summed over workers"
    )
    for title, key in (
        ("folder", lambda r: r["id"].split("::")[0].rsplit("/", 1)[0]),
        ("module", lambda r: r["id"].split("::")[0]),
        ("test", lambda r: r["id"]),
    ):
        totals: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0.0, 0])
        for r in rows:
            entry = totals[key(r)]
            entry[0] += r["cpu"]
            entry[1] += r["wall"]
            entry[2] += 1
        print(f"\nby {title}: CPU s, wall s, tests")
        for name, (cpu, wall, count) in sorted(totals.items(), key=lambda kv: -kv[1][0])[:20]:
            print(f"{cpu:8.1f} {wall:8.1f} {count:5d}  {name}")


if __name__ == "__main__":
    report(Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT)
