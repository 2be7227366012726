"""Flash sale through the balancer: 1,000 buyers spread over every node race for 10 units."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx
import pytest

from scripts.cluster import Cluster
from tests.cluster.shop import (
    Answer,
    Shopper,
    Tally,
    assert_books_balance,
    checkout,
    order_statuses,
    paid_answer,
    pay,
    prepare,
)

pytestmark = pytest.mark.cluster

BUYERS = 1000
UNITS = 10
IN_FLIGHT = 256  # buyers whose requests are open at once; the balancer queues the rest


async def race(base: str, shoppers: list[Shopper], product_id: int) -> tuple[Tally, list, float]:
    tally = Tally()
    gate = asyncio.Semaphore(IN_FLIGHT)
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60.0) as client:
        started = time.perf_counter()

        async def buy(shopper: Shopper) -> tuple[Shopper, Answer]:
            async with gate:
                answer = await checkout(client, shopper, product_id)
            tally.add("checkout", answer)
            return shopper, answer

        answers = await asyncio.gather(*(buy(s) for s in shoppers))
        winners = [(s, a) for s, a in answers if a.status == 200]

        async def settle(shopper: Shopper, answer: Answer) -> tuple[int, Answer]:
            paid = await pay(client, shopper, answer.body["payment_url"])
            tally.add("pay", paid)
            return answer.body["order_id"], paid

        payments = await asyncio.gather(*(settle(s, a) for s, a in winners))
        return tally, payments, time.perf_counter() - started


def test_a_thousand_buyers_over_all_nodes_buy_exactly_ten_units(all_nodes_up: Cluster) -> None:
    cluster = all_nodes_up
    setup = prepare(cluster, shoppers=BUYERS, products=[UNITS])
    product = setup.products[0]

    tally, payments, seconds = asyncio.run(race(cluster.balancer_url, setup.shoppers, product))

    checkouts = tally.statuses["checkout"]
    print(
        f"\nflash sale: {BUYERS} buyers, {UNITS} units, {seconds:.1f} s including payment; "
        f"checkout answers {dict(checkouts)}; requests per node {dict(sorted(tally.nodes.items()))}"
    )
    assert checkouts == Counter({200: UNITS, 409: BUYERS - UNITS})
    assert set(tally.nodes) == set(cluster.node_names)  # every node took part
    assert all(paid_answer(answer) for _, answer in payments), payments
    statuses = order_statuses(cluster.database_url, [order_id for order_id, _ in payments])
    assert list(statuses.values()) == ["paid"] * UNITS

    [book] = assert_books_balance(cluster.database_url, [product])
    print(f"books: {book}")
    assert book["sold"] == UNITS  # exactly the units there were: none oversold, none left over
    assert book["stock"] == 0 and book["held"] == 0 and book["received"] == UNITS
