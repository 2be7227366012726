"""Reservations per second on one product through Haat's own reservation code (the store's
conditional UPDATE plus the ledger row, one transaction each), from N threads with their own
database connections. Run by bench/run.py with the server's environment; prints JSON."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haat.settings")

import django

django.setup()

from django.db import connection  # noqa: E402

from catalog.services import stock_take  # noqa: E402


def main(product_id: int, threads: int, seconds: float) -> dict[str, float]:
    done = [0] * threads
    deadline = time.perf_counter() + seconds
    start = threading.Barrier(threads)

    def work(index: int) -> None:
        start.wait()
        try:
            while time.perf_counter() < deadline:
                stock_take(quantities={product_id: 1}, reason="reservation", reference="bench")
                done[index] += 1
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    began = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began
    return {"reservations_per_s": sum(done) / elapsed, "threads": threads}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))))
