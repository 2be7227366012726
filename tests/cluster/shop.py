"""What the cluster tests do to the shop (over HTTP, through the balancer) and how they read its
books afterwards (straight from PostgreSQL, never through the nodes under test)."""

from __future__ import annotations

import csv
import io
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from scripts.cluster import Cluster

PREPARE = Path(__file__).with_name("prepare.py")
PAYING_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
# Answers the balancer makes itself when a node fails (bad gateway, unavailable, timeout), and
# 0 for no answer at all. A 500 is the app's own failure and is never one of these.
BALANCER_ERRORS = {0, 502, 503, 504}


@dataclass(frozen=True)
class Shopper:
    user_id: int
    session: str
    csrf: str

    def headers(self, content_type: str = "application/json") -> dict[str, str]:
        return {
            "Cookie": f"sessionid={self.session}; csrftoken={self.csrf}",
            "X-CSRFToken": self.csrf,
            "Referer": "http://127.0.0.1/",
            "Content-Type": content_type,
        }


@dataclass
class Prepared:
    shoppers: list[Shopper]
    products: list[int]
    accounts: list[int]


def prepare(
    cluster: Cluster,
    *,
    shoppers: int = 0,
    products: list[int] | None = None,
    accounts: list[dict[str, str]] | None = None,
) -> Prepared:
    spec = {"shoppers": shoppers, "products": products or [], "accounts": accounts or []}
    made = json.loads(cluster.python(PREPARE, json.dumps(spec)))
    return Prepared([Shopper(**s) for s in made["shoppers"]], made["products"], made["accounts"])


@dataclass
class Answer:
    status: int  # 0: no answer (connection error or client timeout)
    node: str = ""  # X-Haat-Node: which app node answered ("" when the balancer did)
    body: Any = None
    location: str = ""
    error: str = ""  # what went wrong when nothing answered


@dataclass
class Tally:
    """Statuses and answering nodes of a burst, per kind of request."""

    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    nodes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    def add(self, kind: str, answer: Answer) -> None:
        self.statuses.setdefault(kind, Counter())[answer.status] += 1
        if answer.node:
            self.nodes[answer.node] += 1
        if answer.error:
            self.errors[answer.error] += 1

    def count(self, statuses: set[int]) -> int:
        return sum(n for c in self.statuses.values() for s, n in c.items() if s in statuses)


async def send(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    shopper: Shopper,
    *,
    body: dict[str, Any] | None = None,
    form: dict[str, str] | None = None,
) -> Answer:
    if form is not None:
        content = str(httpx.QueryParams(form))
        headers = shopper.headers("application/x-www-form-urlencoded")
    else:
        content = json.dumps(body) if body is not None else ""
        headers = shopper.headers()
    try:
        response = await client.request(method, path, content=content, headers=headers)
    except httpx.HTTPError as error:
        return Answer(0, error=f"{type(error).__name__}: {error}")
    parsed: Any = None
    if response.headers.get("content-type", "").startswith("application/json"):
        parsed = response.json()
    return Answer(
        response.status_code,
        response.headers.get("x-haat-node", ""),
        parsed,
        response.headers.get("location", ""),
    )


async def checkout(client: httpx.AsyncClient, shopper: Shopper, product_id: int) -> Answer:
    return await send(
        client,
        "POST",
        "/api/checkout",
        shopper,
        body={"buy_now": {"product_id": product_id, "quantity": 1}},
    )


async def pay(
    client: httpx.AsyncClient, shopper: Shopper, payment_url: str, card: str = PAYING_CARD
) -> Answer:
    """Pay on the test gateway's hosted page, as the shopper's browser would post its form."""
    return await send(
        client,
        "POST",
        httpx.URL(payment_url).path,
        shopper,
        form={"csrfmiddlewaretoken": shopper.csrf, "card_number": card, "action": "pay"},
    )


def paid_answer(answer: Answer) -> bool:
    """The payment page sent the shopper on to the success page: the payment went through."""
    return answer.status == 302 and "/checkout/success/" in answer.location


# ------------------------------------------------------------------------------ the books
def rows(database_url: str, query: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        cursor = conn.execute(query, params)
        names = [column.name for column in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def stock_books(database_url: str, product_ids: list[int]) -> list[dict[str, Any]]:
    """Per product: stock, the ledger's sum, units received, held by active reservations, sold
    (lines of paid orders) and how many sale rows the ledger has."""
    return rows(
        database_url,
        """
        SELECT p.id, p.stock,
          (SELECT coalesce(sum(m.delta), 0) FROM catalog_stockmovement m
            WHERE m.product_id = p.id) AS ledger,
          (SELECT coalesce(sum(m.delta), 0) FROM catalog_stockmovement m
            WHERE m.product_id = p.id AND m.reason IN ('initial', 'restock')) AS received,
          (SELECT coalesce(sum(l.quantity), 0) FROM orders_orderline l
            JOIN checkout_reservation r ON r.order_id = l.order_id
            WHERE l.product_ref = p.id AND r.status = 'active') AS held,
          (SELECT coalesce(sum(l.quantity), 0) FROM orders_orderline l
            JOIN orders_order o ON o.id = l.order_id
            WHERE l.product_ref = p.id AND o.status = 'paid') AS sold,
          (SELECT count(*) FROM catalog_stockmovement m
            WHERE m.product_id = p.id AND m.reason = 'sale') AS sale_rows
        FROM catalog_product p WHERE p.id = ANY(%s) ORDER BY p.id
        """,
        (product_ids,),
    )


def assert_books_balance(database_url: str, product_ids: list[int]) -> list[dict[str, Any]]:
    """Stock equals the ledger's sum; in stock + held + sold equals received; one sale row per
    unit sold; no order sold twice; no negative stock anywhere."""
    books = stock_books(database_url, product_ids)
    assert len(books) == len(product_ids)
    for book in books:
        assert book["stock"] == book["ledger"], book
        assert book["stock"] + book["held"] + book["sold"] == book["received"], book
        assert book["sale_rows"] == book["sold"], book  # buy-now orders: one unit per line
    twice = rows(
        database_url,
        "SELECT reference, product_id, count(*) AS n FROM catalog_stockmovement "
        "WHERE reason = 'sale' GROUP BY reference, product_id HAVING count(*) > 1",
    )
    assert twice == [], twice
    negative = rows(database_url, "SELECT id, stock FROM catalog_product WHERE stock < 0")
    assert negative == [], negative
    return books


def paid_sessions(database_url: str, product_ids: list[int]) -> list[dict[str, Any]]:
    """Every test-gateway session that took money for these products, with its order's fate."""
    return rows(
        database_url,
        """
        SELECT s.session_id, o.id AS order_id, o.status AS order_status,
               r.status AS reservation_status
        FROM payments_testpaymentsession s
        JOIN orders_order o ON o.id = s.order_id
        LEFT JOIN checkout_reservation r ON r.order_id = o.id
        WHERE s.payment_status = 'paid'
          AND EXISTS (SELECT 1 FROM orders_orderline l
                      WHERE l.order_id = o.id AND l.product_ref = ANY(%s))
        """,
        (product_ids,),
    )


def order_statuses(database_url: str, order_ids: list[int]) -> dict[int, str]:
    found = rows(
        database_url, "SELECT id, status FROM orders_order WHERE id = ANY(%s)", (order_ids,)
    )
    return {row["id"]: row["status"] for row in found}


def balancer_requests(cluster: Cluster) -> int:
    """HTTP requests the balancer's front end has taken so far (its health checks of the nodes
    are not among them)."""
    text = cluster.haproxy_command("show stat")
    for row in csv.DictReader(io.StringIO(text.lstrip("# "))):
        if row.get("pxname") == "haat" and row.get("svname") == "FRONTEND":
            return int(row.get("req_tot") or 0)
    raise AssertionError("HAProxy shows no front end named haat")


def wait_for(ready: Callable[[], bool], *, timeout: float, interval: float = 0.2) -> float | None:
    """Seconds until ready() held (polled every interval), or None if it did not within timeout."""
    started = time.monotonic()
    while True:
        if ready():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            return None
        time.sleep(interval)
