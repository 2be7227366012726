"""An expired reservation is released by beat and the worker alone: nobody sends a request.

Checkouts through the balancer hold units; two of the reservations are then made to run out (their
expiry moved into the past in the database, as time would), and the test only watches the
database and the balancer's request counter. Within two beat periods the periodic job has asked the
gateway, closed the two payment sessions, cancelled the orders and put the units back with a
`release` row in the ledger; the third reservation, not expired, still holds its unit."""

from __future__ import annotations

import httpx
import pytest

from scripts.cluster import Cluster
from tests.cluster.conftest import BEAT_PERIOD
from tests.cluster.shop import (
    assert_books_balance,
    balancer_requests,
    prepare,
    rows,
    wait_for,
)

pytestmark = pytest.mark.cluster

UNITS = 5
EXPIRED = 2


def test_beat_releases_an_expired_reservation_with_no_request_from_anyone(
    all_nodes_up: Cluster,
) -> None:
    cluster = all_nodes_up
    db = cluster.database_url
    setup = prepare(cluster, shoppers=EXPIRED + 1, products=[UNITS])
    product = setup.products[0]
    with httpx.Client(base_url=cluster.balancer_url, timeout=30) as client:
        orders = []
        for shopper in setup.shoppers:
            answer = client.post(
                "/api/checkout",
                json={"buy_now": {"product_id": product, "quantity": 1}},
                headers=shopper.headers(),
            )
            assert answer.status_code == 200, answer.text
            orders.append(answer.json()["order_id"])
    expiring, kept = orders[:EXPIRED], orders[EXPIRED]
    assert rows(db, "SELECT stock FROM catalog_product WHERE id = %s", (product,)) == [
        {"stock": UNITS - len(orders)}
    ]

    requests_before = balancer_requests(cluster)
    moved = rows(
        db,
        "UPDATE checkout_reservation SET expires_at = now() - interval '1 second' "
        "WHERE order_id = ANY(%s) AND status = 'active' RETURNING order_id",
        (expiring,),
    )
    assert len(moved) == EXPIRED

    def released() -> bool:
        found = rows(
            db,
            "SELECT count(*) AS n FROM checkout_reservation "
            "WHERE order_id = ANY(%s) AND status = 'released'",
            (expiring,),
        )
        return found[0]["n"] == EXPIRED

    took = wait_for(released, timeout=2 * BEAT_PERIOD + 20)
    requests_during = balancer_requests(cluster) - requests_before
    print(
        f"\n{EXPIRED} reservations expired, beat period {BEAT_PERIOD} s: released after "
        f"{took if took is None else round(took, 1)} s, requests through the balancer meanwhile: "
        f"{requests_during}"
    )
    assert took is not None, "beat and the worker did not release the expired reservations"
    assert took <= 2 * BEAT_PERIOD, f"released after {took:.1f} s, over two beat periods"
    assert requests_during == 0  # nobody asked: beat did it

    orders_now = rows(
        db,
        "SELECT o.id, o.status, o.number_ref, s.status AS session_status, r.status AS held "
        "FROM (SELECT id, status, 'HT-' || lpad(id::text, 6, '0') AS number_ref "
        "      FROM orders_order WHERE id = ANY(%s)) o "
        "JOIN payments_testpaymentsession s ON s.order_id = o.id "
        "JOIN checkout_reservation r ON r.order_id = o.id ORDER BY o.id",
        (orders,),
    )
    by_id = {row["id"]: row for row in orders_now}
    for order_id in expiring:
        assert by_id[order_id]["status"] == "cancelled", by_id[order_id]
        assert by_id[order_id]["session_status"] == "expired", by_id[order_id]
    assert by_id[kept]["status"] == "pending" and by_id[kept]["held"] == "active"
    releases = rows(
        db,
        "SELECT reference, delta FROM catalog_stockmovement "
        "WHERE product_id = %s AND reason = 'release' ORDER BY reference",
        (product,),
    )
    assert releases == [
        {"reference": by_id[order_id]["number_ref"], "delta": 1} for order_id in sorted(expiring)
    ]
    books = assert_books_balance(db, [product])
    print(f"books: {books}")
    assert books[0]["stock"] == UNITS - 1 and books[0]["held"] == 1
