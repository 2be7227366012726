"""A hand-made list of hostile requests against the HTML forms and the API: each one is refused
with a 4xx (never a 500) and changes nothing at all (stock, carts, wishlists, orders,
reservations, the ledger, accounts).

The shopper starts with a product in the cart and the wishlist and an unpaid order holding
stock, so a request that cancelled that order (or touched anything else) before failing shows.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from cart.services import cart_add_line
from checkout.services import checkout_start
from orders.models import Order
from tests.checkout.conftest import URLS
from tests.shop_state import shop_state
from wishlist.services import wishlist_toggle

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"
TWO_63 = str(2**63)
DELIVERY = {
    "name": "Rina Akter",
    "phone": "01712345678",
    "address": "House 12, Road 5",
    "city": "Dhaka",
}
BAD_QUANTITIES = [
    "²",
    "④",
    "١٢",
    "1.5",
    "1e3",
    "-1",
    "0",
    "",
    " ",
    "+1",
    "1_0",
    HUGE,
    "1\x00",
    "9" * 5000,
]
BAD_IDS = [HUGE, TWO_63, "-1", "0", "1.5", "²", "١", "", "{a}\x00", "a" * 5000]
# The whole lists go to Add to Cart; the other endpoints get one of each kind.
SOME_QUANTITIES = ["²", "④", "١٢", "1.5", "-1", HUGE, "1\x00"]
SOME_IDS = ["²", "١", HUGE, TWO_63, "-1"]
CONTROL = ["\x00", "a\x00b", "\x07", "\x1b[31m", "\x7f", "\x85"]
SOME_CONTROL = ["\x00", "\x1b[31m", "\x85"]

# (method, path, form data); "{a}" is the product in the cart, "{big}" costs 2**62 minor
# units, "{o}" is the shopper's unpaid order. Form data lists mean repeated parameters.
HTML: list[tuple[str, str, dict[str, Any]]] = [
    *[("POST", "/cart/add/", {"product_id": "{a}", "quantity": q}) for q in BAD_QUANTITIES],
    *[("POST", "/cart/add/", {"product_id": pid, "quantity": "1"}) for pid in BAD_IDS],
    ("POST", "/cart/add/", {"product_id": "{a}", "quantity": ["1", "²"]}),
    ("POST", "/cart/add/", {"product_id": ["{a}", "abc"], "quantity": "1"}),
    ("POST", "/cart/add/", {"product_id": "{a}", "quantity": "10001"}),
    *[("POST", "/cart/lines/{a}/quantity/", {"quantity": q}) for q in SOME_QUANTITIES],
    ("POST", "/cart/lines/{a}/quantity/", {"quantity_typed": "④"}),
    ("POST", f"/cart/lines/{HUGE}/quantity/", {"quantity": "1"}),
    ("POST", f"/cart/lines/{TWO_63}/quantity/", {"quantity": "1"}),
    *[("POST", "/cart/remove/", {"product_ids": pid}) for pid in SOME_IDS],
    ("POST", "/cart/remove/", {"product_ids": ["{a}", "abc"]}),
    ("GET", "/cart/remove/", {"product_ids": ["{a}", HUGE]}),
    *[("POST", "/wishlist/toggle/", {"product_id": pid}) for pid in SOME_IDS],
    ("POST", f"/wishlist/items/{HUGE}/remove/", {}),
    *[
        ("POST", "/checkout/buy-now/", {"product_id": "{a}", "quantity": q})
        for q in SOME_QUANTITIES
    ],
    *[("POST", "/checkout/buy-now/", {"product_id": pid, "quantity": "1"}) for pid in SOME_IDS],
    *[("GET", "/checkout/", {"buy_now": "{a}", "quantity": q}) for q in SOME_QUANTITIES],
    ("GET", "/checkout/", {"buy_now": HUGE, "quantity": "1"}),
    ("GET", "/checkout/", {"product_ids": ["{a}", "²"]}),
    *[
        ("POST", "/checkout/start/", {"buy_now": "{a}", "quantity": "1", **DELIVERY, field: value})
        for field in DELIVERY
        for value in [*SOME_CONTROL, "x" * 600]
    ],
    ("POST", "/checkout/start/", {"buy_now": "{a}", "quantity": "④", **DELIVERY}),
    ("POST", "/checkout/start/", {"buy_now": "{a}", "quantity": "1", **DELIVERY, "name": "   "}),
    ("POST", "/checkout/start/", {"buy_now": "{big}", "quantity": "2", **DELIVERY}),
    ("GET", "/checkout/", {"buy_now": "{big}", "quantity": "2"}),
    *[("GET", "/search/", {"q": q}) for q in [*CONTROL, "x" * 5000]],
    ("GET", "/search/", {"q": ["rice", "\x00"]}),
    (
        "GET",
        f"/orders/{HUGE}/",
        {},
    ),
    ("POST", f"/orders/{HUGE}/cancel/", {}),
    ("POST", "/orders/{o}/cancel/x/", {}),
    # Wrong methods.
    ("GET", "/cart/add/", {"product_id": "{a}", "quantity": "1"}),
    ("PUT", "/cart/add/", {}),
    ("GET", "/checkout/start/", {"buy_now": "{a}", "quantity": "1", **DELIVERY}),
    ("DELETE", "/wishlist/toggle/", {}),
    ("POST", "/orders/{o}/", {}),
]

# Answered as usual (nonsense page numbers mean the first page; an order that can't be found
# sends the shopper back with a message), but never with a 500 and never changing anything.
TOLERATED: list[tuple[str, str, dict[str, Any]]] = [
    *[("GET", "/", {"page": page}) for page in ["²", "④", "١", HUGE, "-1", ""]],
    ("GET", "/search/", {"q": "rice", "page": "²"}),
    ("GET", "/checkout/success/", {"order": HUGE}),
    ("GET", "/checkout/cancel/", {"order": "²"}),
]

# (method, path, raw JSON body or None).
API: list[tuple[str, str, str | None]] = [
    *[
        ("POST", "/api/cart/lines", f'{{"product_id": {{a}}, "quantity": {q}}}')
        for q in ['"1"', "1.5", "true", "null", "0", "-1", "10001", "1e400", "NaN", HUGE, '"²"']
    ],
    *[
        ("POST", "/api/cart/lines", f'{{"product_id": {pid}, "quantity": 1}}')
        for pid in [HUGE, TWO_63, "0", "-1", "1.5", '"{a}"', "[{a}]"]
    ],
    ("POST", "/api/cart/lines", '{"product_id": {a}, "quantity": 1, "quantity": "x"}'),
    ("POST", "/api/cart/lines", "[" * 100_000),
    ("POST", "/api/cart/lines", '{"product_id": {a}, "quantity": 1, "\\u0000": 1}'),
    ("PATCH", "/api/cart/lines/{a}", '{"quantity": 1.5}'),
    ("PATCH", f"/api/cart/lines/{HUGE}", '{"quantity": 1}'),
    ("PATCH", "/api/cart/lines/%C2%B2", '{"quantity": 1}'),
    ("DELETE", f"/api/cart/lines/{TWO_63}", None),
    ("POST", "/api/cart/lines/remove", '{"product_ids": []}'),
    ("POST", "/api/cart/lines/remove", f'{{"product_ids": [{HUGE}]}}'),
    ("POST", "/api/cart/lines/remove", '{"product_ids": [' + ",".join(["1"] * 501) + "]}"),
    ("POST", "/api/wishlist/toggle", '{"product_id": "x"}'),
    ("DELETE", "/api/wishlist/items/-1", None),
    ("GET", f"/api/orders/{HUGE}", None),
    *[
        (
            "POST",
            "/api/checkout",
            json.dumps(
                {
                    "buy_now": {"product_id": 0, "quantity": 1},
                    "delivery": {**DELIVERY, field: value},
                }
            ).replace('"product_id": 0', '"product_id": {a}'),
        )
        for field in DELIVERY
        for value in [*SOME_CONTROL, "x" * 600, "   "]
    ],
    (
        "POST",
        "/api/checkout",
        '{"buy_now": {"product_id": {a}, "quantity": 1}, "delivery": {"name": "\\ud800", '
        '"phone": "01712345678", "address": "House 12, Road 5", "city": "Dhaka"}}',
    ),
    ("POST", "/api/checkout", '{"buy_now": {"product_id": {big}, "quantity": 2}}'),
    (
        "POST",
        "/api/checkout",
        '{"product_ids": [{a}], "buy_now": {"product_id": {a}, "quantity": 1}}',
    ),
    ("POST", "/api/checkout", "{}"),
    ("POST", "/api/checkout", '{"product_ids": []}'),
    ("PUT", "/api/cart", "{}"),
    ("DELETE", "/api/state", None),
    ("GET", "/api/no-such-thing", None),
]


# (path, raw body, content type): bodies no browser form or JSON client would send.
RAW: list[tuple[str, bytes, str]] = [
    ("/api/cart/lines", b"\xff\xfe", "application/json"),
    ("/api/cart/lines", b"product_id=1&quantity=1", "application/x-www-form-urlencoded"),
    ("/api/cart/lines", b'{"product_id": 1, "quantity": 1}' + b" " * 3_000_000, "application/json"),
    (
        "/api/checkout",
        b'{"buy_now": {"product_id": 1, "quantity": 1}, "delivery": "\x00"}',
        "application/json",
    ),
    (
        "/cart/add/",
        b"product_id={a}&quantity=1&" + b"x=1&" * 1200,
        "application/x-www-form-urlencoded",
    ),
    (
        "/cart/add/",
        b"product_id={a}&quantity=1&note=" + b"x" * 3_000_000,
        "application/x-www-form-urlencoded",
    ),
    ("/cart/add/", b"--b\r\nbroken", "multipart/form-data; boundary=b"),
    (
        "/checkout/start/",
        b"buy_now={a}&quantity=1&name=\xff\x00",
        "application/x-www-form-urlencoded",
    ),
]


@pytest.fixture
def shop(shopper, shopper_client, make_product):
    product = make_product(stock=10, price_minor=1000)
    big = make_product(stock=5, price_minor=2**62)
    cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=1)
    wishlist_toggle(user_id=shopper.pk, product_id=product.pk)
    order = checkout_start(user_id=shopper.pk, buy_now=(product.pk, 2), **URLS)
    return {"a": str(product.pk), "big": str(big.pk), "o": str(order.pk)}


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, list):
        return [_fill(item, ids) for item in value]
    for name, pk in ids.items():
        value = value.replace("{" + name + "}", pk)
    return value


def _label(case: tuple) -> str:
    return " ".join(repr(part)[:60] for part in case)


def _send_form(client: Client, shop: dict[str, str], case: tuple) -> Any:
    method, path, data = case
    path = _fill(path, shop)
    data = {key: _fill(value, shop) for key, value in data.items()}
    if method == "GET":
        return client.get(path, data)
    if method == "POST":
        return client.post(path, data)
    return getattr(client, method.lower())(path)


@pytest.mark.parametrize("case", HTML, ids=[_label(case) for case in HTML])
def test_hostile_form_requests_are_refused_and_change_nothing(shop, shopper_client, case):
    before = shop_state()
    response = _send_form(shopper_client, shop, case)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert shop_state() == before
    assert Order.objects.get(pk=shop["o"]).status == Order.Status.PENDING


@pytest.mark.parametrize("case", TOLERATED, ids=[_label(case) for case in TOLERATED])
def test_tolerated_nonsense_is_answered_without_changing_anything(shop, shopper_client, case):
    before = shop_state()
    response = _send_form(shopper_client, shop, case)
    assert response.status_code in {200, 302}, (response.status_code, response.content[:300])
    assert shop_state() == before


@pytest.mark.parametrize("case", API, ids=[_label(case) for case in API])
def test_hostile_api_requests_are_refused_with_the_error_shape(shop, shopper_client, case):
    method, path, body = case
    before = shop_state()
    kwargs: dict[str, Any] = {}
    if body is not None:
        kwargs = {"data": _fill(body, shop), "content_type": "application/json"}
    response = getattr(shopper_client, method.lower())(_fill(path, shop), **kwargs)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    assert set(response.json()) == {"code", "message", "details"}
    assert shop_state() == before
    assert Order.objects.get(pk=shop["o"]).status == Order.Status.PENDING


@pytest.mark.parametrize("next_url", ["0", "cart", "javascript:alert(1)", "//evil.example/"])
def test_a_next_that_is_not_a_path_on_this_site_falls_back(shopper_client, make_product, next_url):
    # redirect() would read "0" or "cart" as the name of a URL pattern and answer 500.
    product = make_product(stock=5)
    response = shopper_client.post(
        "/cart/add/", {"product_id": product.pk, "quantity": "1", "next": next_url}
    )
    assert (response.status_code, response["Location"]) == (302, "/cart/")
    toggled = shopper_client.post("/wishlist/toggle/", {"product_id": product.pk, "next": next_url})
    assert (toggled.status_code, toggled["Location"]) == (302, "/wishlist/")


@pytest.mark.parametrize("case", RAW, ids=[_label(case) for case in RAW])
def test_hostile_bodies_are_refused_and_change_nothing(shop, shopper_client, case):
    path, body, content_type = case
    before = shop_state()
    response = shopper_client.post(
        path, body.replace(b"{a}", shop["a"].encode()), content_type=content_type
    )
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    if path.startswith("/api/"):
        assert set(response.json()) == {"code", "message", "details"}
    assert shop_state() == before
