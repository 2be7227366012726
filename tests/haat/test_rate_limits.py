"""Abuse limits on sign-up, password reset, checkout starts and cart/wishlist writes: over the
limit the answer is 429 with Retry-After (JSON ``rate_limited`` on the API, a page elsewhere)
and nothing changes. Each test sets a small rate; the rules are the production ones."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from cart.selectors import cart_contents
from checkout.models import Reservation
from haat.limits import client_ip
from tests.api_helpers import assert_error, call
from tests.conftest import PASSWORD
from tests.manage_process import manage
from wishlist.selectors import wishlist_contents

pytestmark = pytest.mark.django_db

DELIVERY = {"name": "Rina", "phone": "+8801711000000", "address": "12 Lake Road", "city": "Dhaka"}


@pytest.fixture
def limits(settings):
    def set_limits(**rates: str | None) -> None:
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, **rates}

    return set_limits


def add(client, product, quantity: int = 1):
    return call(client, "POST", "/api/cart/lines", {"product_id": product.pk, "quantity": quantity})


def assert_rate_limited_json(response) -> None:
    payload = assert_error(response, 429, "rate_limited")
    assert payload["details"]["retry_after"] == int(response.headers["Retry-After"]) >= 1


def assert_rate_limited_page(response) -> None:
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    body = response.content.decode()
    assert "Please slow down" in body
    assert "Too many requests" in body


def test_cart_and_wishlist_writes_share_one_count_per_user(
    limits, shopper_client, make_product, make_user
):
    # An hour's window: the test's ten requests never straddle two windows (a minute's did on a
    # loaded machine, and the second window counted afresh).
    limits(cart_write="4/h")
    lamp, mug = make_product(), make_product()
    assert add(shopper_client, lamp).status_code == 200
    assert (
        call(shopper_client, "PATCH", f"/api/cart/lines/{lamp.pk}", {"quantity": 2}).status_code
        == 200
    )
    assert shopper_client.post("/cart/add/", {"product_id": mug.pk}).status_code == 302
    assert (
        call(shopper_client, "POST", "/api/wishlist/toggle", {"product_id": mug.pk}).status_code
        == 200
    )

    refused_api = add(shopper_client, mug)
    assert_rate_limited_json(refused_api)
    assert_rate_limited_json(call(shopper_client, "DELETE", f"/api/cart/lines/{lamp.pk}"))
    assert_rate_limited_json(call(shopper_client, "DELETE", f"/api/wishlist/items/{mug.pk}"))
    assert_rate_limited_page(shopper_client.post("/cart/add/", {"product_id": lamp.pk}))
    assert_rate_limited_page(
        shopper_client.post(f"/cart/lines/{lamp.pk}/quantity/", {"quantity": "1"})
    )
    assert_rate_limited_page(shopper_client.post("/cart/remove/", {"product_ids": [lamp.pk]}))
    assert_rate_limited_page(shopper_client.post("/wishlist/toggle/", {"product_id": lamp.pk}))
    assert_rate_limited_page(shopper_client.post(f"/wishlist/items/{mug.pk}/remove/"))

    user_id = User.objects.get(email="shopper@example.com").pk
    assert cart_contents(user_id=user_id).lines == {lamp.pk: 2, mug.pk: 1}  # nothing changed
    assert wishlist_contents(user_id=user_id).product_ids == [mug.pk]
    # Reading is never limited, and another shopper has a count of their own.
    assert shopper_client.get("/api/cart").status_code == 200
    assert shopper_client.get("/cart/").status_code == 200
    other = Client()
    other.force_login(make_user())
    assert add(other, lamp).status_code == 200


def test_checkout_starts_are_limited_per_user_on_page_and_api(limits, shopper_client, make_product):
    limits(checkout="2/10m")
    kettle = make_product(stock=50)
    for _ in range(2):
        started = call(
            shopper_client,
            "POST",
            "/api/checkout",
            {"buy_now": {"product_id": kettle.pk, "quantity": 1}, "delivery": DELIVERY},
        )
        assert started.status_code == 200, started.content
    refused = call(
        shopper_client,
        "POST",
        "/api/checkout",
        {"buy_now": {"product_id": kettle.pk, "quantity": 1}, "delivery": DELIVERY},
    )
    assert_rate_limited_json(refused)
    page = shopper_client.post(
        "/checkout/start/", {"buy_now": kettle.pk, "quantity": "1", **DELIVERY}
    )
    assert_rate_limited_page(page)
    assert Reservation.objects.count() == 2  # the refused starts reserved nothing


def sign_up(client, email: str, ip: str = "203.0.113.20"):
    return client.post(
        "/account/sign-up/",
        {"email": email, "password1": PASSWORD, "password2": PASSWORD},
        REMOTE_ADDR=ip,
    )


def test_sign_up_is_limited_per_ip(limits, client):
    limits(sign_up_ip="3/h")
    statuses = [sign_up(client, f"new{n}@example.com").status_code for n in range(6)]
    assert statuses == [302] * 3 + [429] * 3
    assert_rate_limited_page(sign_up(client, "more@example.com"))
    assert sign_up(client, "elsewhere@example.com", ip="203.0.113.21").status_code == 302
    assert client.get("/account/sign-up/", REMOTE_ADDR="203.0.113.20").status_code == 200


def test_sign_up_is_limited_per_address_from_any_ip(limits, client):
    limits(sign_up_email="2/h")
    statuses = [
        sign_up(client, "Same@Example.com", ip=f"198.51.100.{n}").status_code for n in range(4)
    ]
    assert statuses == [302, 302, 429, 429]


def test_password_reset_is_limited_per_ip_and_per_address(limits, client, make_user):
    make_user("reset@example.com")
    limits(password_reset_ip="3/h", password_reset_email="2/h")

    def ask(email: str, ip: str) -> int:
        return client.post("/account/password-reset/", {"email": email}, REMOTE_ADDR=ip).status_code

    assert [ask("reset@example.com", f"198.51.100.{n}") for n in range(3)] == [302, 302, 429]
    assert [ask(f"x{n}@example.com", "203.0.113.30") for n in range(4)] == [302, 302, 302, 429]


def test_a_limit_set_to_off_never_refuses(limits, shopper_client, make_product):
    limits(cart_write=None)
    product = make_product(stock=100)
    for _ in range(30):
        assert add(shopper_client, product).status_code == 200


def test_limits_let_shoppers_through_while_the_cache_is_down(
    limits, settings, shopper_client, make_product
):
    settings.CACHES = {
        "default": {
            "BACKEND": "haat.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:18199/2",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    limits(cart_write="1/m")
    product = make_product()
    for _ in range(3):
        answer = add(shopper_client, product)
        assert answer.status_code == 200


def test_client_ip_trusts_only_the_configured_number_of_proxies(settings, rf):
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.4")
    assert client_ip(request) == "10.0.0.2"  # no proxy configured: the header is ignored
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "198.51.100.4"  # what our proxy saw; the spoofed part is left
    settings.TRUSTED_PROXY_COUNT = 3
    assert client_ip(request) == "10.0.0.2"  # fewer hops than proxies: not trusted


@pytest.mark.parametrize("value", ["many", "10", "10/week", "0/m", "-1/m"])
def test_a_bad_rate_is_a_clear_error(tmp_path, value):
    result = manage("check", RATE_LIMIT_CART_WRITES=value, HAAT_DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "RATE_LIMIT_CART_WRITES must look like 20/10m" in result.stderr


def test_on_redis_a_limited_write_is_counted_in_one_round_trip(
    limits, settings, redis_url, shopper_client, make_product, monkeypatch
):
    """django-ratelimit's add, exists and incr are one MULTI/EXEC here: one round trip, the
    same count, and the window's key always carries its expiry."""
    import redis as redis_library
    from django.core.cache import caches

    settings.CACHES = {"default": {"BACKEND": "haat.cache.RedisCache", "LOCATION": redis_url}}
    limits(cart_write="3/h")
    product = make_product(stock=100)
    sent = []
    real = redis_library.connection.AbstractConnection.send_packed_command

    def counting(connection, *args, **kwargs):
        sent.append(args)
        return real(connection, *args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(
            redis_library.connection.AbstractConnection, "send_packed_command", counting
        )
        answers = [add(shopper_client, product).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert_rate_limited_json(add(shopper_client, product))
    # One write per request (after the connection's handshake; sessions are in the database
    # here), holding the whole count.
    counts = [b"".join(args[0]) for args in sent if b"rl:" in b"".join(args[0])]
    assert len(counts) == 4
    assert all(b"MULTI" in c and b"INCR" in c and b"EXEC" in c for c in counts)
    client = redis_library.Redis.from_url(redis_url)
    [key] = client.keys("*rl:*")
    assert int(client.get(key) or 0) == 5
    assert 0 < client.ttl(key) <= 3600 + 5
    caches["default"].close()
