"""Redis restarted and the Celery worker killed with `kill -9` in the middle of a burst of
add-to-cart, checkout and payment through the balancer.

The shop keeps selling while they are away: it degrades (sessions read from the database, rate
limits and the broker skipped) and answers no 5xx. What the worker owed is done once it is back:
the queue Redis lost with its restart is not needed, because every mail is a database row the
mail sweep finds, and the reservations that ran out meanwhile are released by beat's next run."""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections import Counter
from typing import Any

import httpx
import pytest

from scripts.cluster import Cluster
from tests.cluster.conftest import BEAT_PERIOD, MAIL_CLAIM_LEASE
from tests.cluster.mail_sink import MailSink
from tests.cluster.shop import (
    Answer,
    Shopper,
    Tally,
    assert_books_balance,
    paid_answer,
    pay,
    prepare,
    rows,
    send,
    wait_for,
)

pytestmark = pytest.mark.cluster

BUYERS = 150
UNITS = [80, 80]  # enough for everyone: a refusal here would be the shop failing
IN_FLIGHT = 16
ABANDON = 0.15  # shoppers who check out and never pay: their reservations run out
KILL_WORKER_AFTER = 30  # shoppers done
RESTART_REDIS_AFTER = 60
REDIS_AWAY_S = 3.0


async def burst(
    cluster: Cluster, shoppers: list[Shopper], products: list[int]
) -> tuple[Tally, list[tuple[int, Answer]], list[int], dict[str, Any], list[Answer]]:
    tally = Tally()
    gate = asyncio.Semaphore(IN_FLIGHT)
    done = 0
    timings: dict[str, Any] = {}
    failures: list[Answer] = []
    abandoned: list[int] = []
    rng = random.Random(7)
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
    async with httpx.AsyncClient(
        base_url=cluster.balancer_url, limits=limits, timeout=60.0
    ) as client:
        started = time.perf_counter()

        def note(kind: str, answer: Answer) -> None:
            tally.add(kind, answer)
            if answer.status >= 500 or answer.status == 0:
                failures.append(answer)

        async def shop(index: int, shopper: Shopper) -> tuple[int, Answer] | None:
            nonlocal done
            product = products[index % len(products)]
            async with gate:
                added = await send(
                    client,
                    "POST",
                    "/api/cart/lines",
                    shopper,
                    body={"product_id": product, "quantity": 1},
                )
                note("cart", added)
                result = None
                if added.status == 200:
                    order = await send(
                        client, "POST", "/api/checkout", shopper, body={"product_ids": [product]}
                    )
                    note("checkout", order)
                    if order.status == 200:
                        if rng.random() < ABANDON:
                            abandoned.append(order.body["order_id"])
                        else:
                            paid = await pay(client, shopper, order.body["payment_url"])
                            note("pay", paid)
                            result = (order.body["order_id"], paid)
            done += 1
            return result

        async def faults() -> None:
            while done < KILL_WORKER_AFTER:
                await asyncio.sleep(0.01)
            timings["worker_killed_at_s"] = time.perf_counter() - started
            await asyncio.to_thread(cluster.kill, "worker")
            while done < RESTART_REDIS_AFTER:
                await asyncio.sleep(0.01)
            timings["redis_stopped_at_s"] = time.perf_counter() - started
            timings["done_at_redis_stop"] = done
            await asyncio.to_thread(cluster.kill, "redis", signal.SIGTERM)
            await asyncio.sleep(REDIS_AWAY_S)
            await asyncio.to_thread(cluster.restart, "redis")
            timings["redis_back_at_s"] = time.perf_counter() - started
            timings["done_at_redis_back"] = done

        results = await asyncio.gather(faults(), *(shop(i, s) for i, s in enumerate(shoppers)))
        timings["burst_s"] = time.perf_counter() - started
    payments = [r for r in results[1:] if r is not None]
    return tally, payments, abandoned, timings, failures


def mail_rows(db: str, order_ids: list[int]) -> Counter[str]:
    found = rows(
        db,
        "SELECT status, count(*) AS n FROM orders_ordermail "
        "WHERE kind = 'confirmation' AND order_id = ANY(%s) GROUP BY status",
        (order_ids,),
    )
    return Counter({row["status"]: row["n"] for row in found})


def test_a_redis_restart_and_a_killed_worker_mid_burst_answer_no_5xx_and_the_tasks_catch_up(
    all_nodes_up: Cluster, mail_sink: MailSink
) -> None:
    cluster = all_nodes_up
    db = cluster.database_url
    setup = prepare(cluster, shoppers=BUYERS, products=UNITS)
    mails_before = len(mail_sink.subjects())
    try:
        tally, payments, abandoned, timings, failures = asyncio.run(
            burst(cluster, setup.shoppers, setup.products)
        )
        print(
            f"\nburst of {BUYERS} shoppers ({IN_FLIGHT} at once) in {timings['burst_s']:.1f} s: "
            f"worker killed at {timings['worker_killed_at_s']:.1f} s, Redis stopped at "
            f"{timings['redis_stopped_at_s']:.1f} s (shopper {timings['done_at_redis_stop']}) "
            f"and back at {timings['redis_back_at_s']:.1f} s (shopper "
            f"{timings['done_at_redis_back']}); cart {dict(tally.statuses.get('cart', {}))}, "
            f"checkout {dict(tally.statuses.get('checkout', {}))}, "
            f"pay {dict(tally.statuses.get('pay', {}))}; 5xx or no answer: {len(failures)} "
            f"{[(a.status, a.body, a.error) for a in failures][:10]}"
        )
        # Degraded, never failed: every request answered, none with a 5xx.
        assert failures == []
        assert set(tally.statuses["cart"]) == {200}
        assert set(tally.statuses["checkout"]) == {200}
        paid_orders = [order_id for order_id, answer in payments if paid_answer(answer)]
        assert len(paid_orders) == len(payments)  # every payment went through
        assert cluster.children["beat"].alive(), "beat did not survive the Redis restart"

        # While no worker runs: the reservations of those who left run out, and mails are owed.
        expired = rows(
            db,
            "UPDATE checkout_reservation SET expires_at = now() - interval '1 second' "
            "WHERE order_id = ANY(%s) AND status = 'active' RETURNING order_id",
            (abandoned,),
        )
        assert len(expired) == len(abandoned) > 0
        owed = mail_rows(db, paid_orders)
        sent_while_away = len(mail_sink.subjects()) - mails_before
        print(
            f"paid orders: {len(paid_orders)}, abandoned checkouts: {len(abandoned)}; "
            f"confirmation mails while the worker was away: {dict(owed)} "
            f"({sent_while_away} reached the mail server)"
        )
        assert owed["pending"] > 0  # the test did leave work for the worker to catch up on
        # A mail the killed worker had claimed but not marked sent waits out the claim's lease
        # (it may have reached the mail server); the seconds left of the longest such lease.
        claims = rows(
            db,
            "SELECT count(*) AS n, coalesce(extract(epoch FROM max(claimed_at) "
            "+ make_interval(secs => %s) - now()), 0)::float AS lease_left "
            "FROM orders_ordermail WHERE order_id = ANY(%s) AND status = 'pending' "
            "AND claimed_at IS NOT NULL",
            (MAIL_CLAIM_LEASE, paid_orders),
        )[0]
        print(
            f"mails claimed by the killed worker: {claims['n']} "
            f"(lease left {max(0.0, claims['lease_left']):.1f} s)"
        )

        restarting = time.monotonic()
        cluster.restart("worker")
        worker_back = time.monotonic()

        def caught_up() -> bool:
            released = rows(
                db,
                "SELECT count(*) AS n FROM checkout_reservation "
                "WHERE order_id = ANY(%s) AND status = 'released'",
                (abandoned,),
            )[0]["n"]
            return released == len(abandoned) and mail_rows(db, paid_orders) == Counter(
                {"sent": len(paid_orders)}
            )

        took = wait_for(caught_up, timeout=2 * BEAT_PERIOD + MAIL_CLAIM_LEASE + 30)
        print(
            f"worker back (answering pings) {worker_back - restarting:.1f} s after its restart; "
            f"mails sent and expired reservations released "
            f"{took if took is None else round(took, 1)} s after that (beat period {BEAT_PERIOD} s); "
            f"mails now {dict(mail_rows(db, paid_orders))}"
        )
        assert took is not None, "the worker did not catch up"
        lease_left = max(0.0, claims["lease_left"] - (worker_back - restarting))
        assert took <= 2 * BEAT_PERIOD + lease_left

        # Each paid order's confirmation reached the mail server once; only a mail the killed
        # worker had claimed may have reached it twice (sent, then killed before the row said
        # so: sending is at least once), and then as the same message (one Message-ID).
        confirmations = [
            (mail.subject.split("Order ")[1].split(" ")[0], mail.message_id)
            for mail in mail_sink.mails()[mails_before:]
            if "Order HT-" in mail.subject
        ]
        numbers = Counter(number for number, _ in confirmations)
        assert set(numbers) == {f"HT-{order_id:06d}" for order_id in paid_orders}
        twice = [number for number, count in numbers.items() if count > 1]
        print(f"confirmations that reached the mail server twice: {twice}")
        assert set(numbers.values()) <= {1, 2}
        assert len(twice) <= claims["n"]
        message_ids: dict[str, set[str]] = {}
        for number, message_id in confirmations:
            message_ids.setdefault(number, set()).add(message_id)
        assert all(
            len(message_ids[number]) == 1 and "" not in message_ids[number] for number in twice
        )
        cancelled = rows(db, "SELECT status FROM orders_order WHERE id = ANY(%s)", (abandoned,))
        assert {row["status"] for row in cancelled} == {"cancelled"}
        books = assert_books_balance(db, setup.products)
        print(f"books: {books}")
        assert sum(book["sold"] for book in books) == len(paid_orders)
        assert sum(book["held"] for book in books) == 0
    finally:
        for name in ("redis", "worker"):
            if not cluster.children[name].alive():
                cluster.restart(name)
