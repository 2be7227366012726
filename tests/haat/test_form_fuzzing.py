"""Hypothesis fuzzes every HTML form endpoint with random and nasty text: no answer is ever a
server error, and a refused write (4xx, an error message, or the form shown again with errors)
changes nothing: stock, carts, wishlists, orders, reservations, ledger and accounts stay as
they were. The budget is small (``max_examples`` per form) so the suite stays fast."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.messages import ERROR
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cart.services import cart_add_line
from tests.checkout.conftest import URLS
from tests.shop_state import shop_state
from wishlist.services import wishlist_toggle

pytestmark = pytest.mark.django_db

EXAMPLES = 25
NASTY = st.sampled_from(
    [
        "", " ", "0", "1", "2", "-1", "²", "④", "١٢", "1.5", "1e3", "+1", "99999999999999999999",
        "9223372036854775808", "\x00", "a\x00b", "\x1b[2J", "\x7f", "\x85", "x" * 700, "%00",
        "' OR 1=1 --", "<script>alert(1)</script>", "shopper@example.com", "০১৭১২৩৪৫৬৭৮",
    ]
)  # fmt: skip
TEXT = st.one_of(NASTY, st.text(max_size=40), st.from_regex(r"[0-9]{1,22}", fullmatch=True))


def _ids(shop: dict[str, str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from([shop["a"], shop["big"], shop["gone"]]), TEXT)


def _delivery() -> st.SearchStrategy[dict[str, str]]:
    valid = {
        "name": "Rina Akter",
        "phone": "01712345678",
        "address": "House 12, Road 5",
        "city": "Dhaka",
    }
    return st.fixed_dictionaries(
        {key: st.one_of(st.just(value), TEXT) for key, value in valid.items()}
    )


def _forms(shop: dict[str, str]) -> dict[str, tuple[str, Any]]:
    """Form → (who sends it, strategy of (method, path, data))."""
    ids, selection = _ids(shop), st.lists(_ids(shop), max_size=3)

    def send(method: str, path: Any, data: Any) -> Any:
        path = path if isinstance(path, st.SearchStrategy) else st.just(path)
        return st.tuples(st.just(method), path, st.fixed_dictionaries(data))

    in_path = ids.map(lambda text: quote(text, safe=""))
    return {
        "cart add": ("shopper", send("POST", "/cart/add/", {"product_id": ids, "quantity": TEXT, "next": TEXT})),
        "cart set quantity": (
            "shopper",
            send("POST", in_path.map("/cart/lines/{}/quantity/".format), {"quantity": TEXT, "quantity_typed": TEXT}),
        ),
        "cart remove (ask)": ("shopper", send("GET", "/cart/remove/", {"product_ids": selection})),
        "cart remove selected": ("shopper", send("POST", "/cart/remove/", {"product_ids": selection})),
        "wishlist toggle": ("shopper", send("POST", "/wishlist/toggle/", {"product_id": ids, "next": TEXT})),
        "wishlist remove": ("shopper", send("POST", in_path.map("/wishlist/items/{}/remove/".format), {})),
        "buy now": ("shopper", send("POST", "/checkout/buy-now/", {"product_id": ids, "quantity": TEXT})),
        "checkout review": (
            "shopper",
            st.one_of(
                send("GET", "/checkout/", {"buy_now": ids, "quantity": TEXT}),
                send("GET", "/checkout/", {"product_ids": selection}),
            ),
        ),
        "checkout start": (
            "shopper",
            st.tuples(
                st.just("POST"),
                st.just("/checkout/start/"),
                st.builds(lambda item, quantity, delivery: {"buy_now": item, "quantity": quantity, **delivery}, ids, TEXT, _delivery()),
            ),
        ),
        "search": ("anonymous", send("GET", "/search/", {"q": TEXT, "page": TEXT})),
        "sign in": ("anonymous", send("POST", "/account/sign-in/", {"username": TEXT, "password": TEXT, "next": TEXT})),
        "sign up": (
            "anonymous",
            send(
                "POST",
                "/account/sign-up/",
                {
                    "full_name": TEXT,
                    "email": st.one_of(TEXT, st.emails()),
                    "password1": st.one_of(TEXT, st.just("long-enough-passphrase-42")),
                    "password2": st.one_of(TEXT, st.just("long-enough-passphrase-42")),
                },
            ),
        ),
        "password reset": ("anonymous", send("POST", "/account/password-reset/", {"email": TEXT})),
    }  # fmt: skip


@pytest.fixture
def shop(shopper, make_product):
    product = make_product(stock=10, price_minor=1000)
    big = make_product(stock=5, price_minor=2**62)
    gone = make_product(stock=5, is_published=False)
    cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=1)
    wishlist_toggle(user_id=shopper.pk, product_id=product.pk)
    from checkout.services import checkout_start

    checkout_start(user_id=shopper.pk, buy_now=(product.pk, 2), **URLS)
    return {"a": str(product.pk), "big": str(big.pk), "gone": str(gone.pk)}


def _refused(response: Any) -> bool:
    if response.status_code >= 400:
        return True
    # Only what this request said (earlier requests' unread messages are loaded too).
    said = getattr(response.wsgi_request._messages, "_queued_messages", [])
    if any(message.level == ERROR for message in said):
        return True
    form = (response.context or {}).get("form") if response.status_code == 200 else None
    return bool(form is not None and form.errors)


@pytest.mark.parametrize("form_name", list(_forms({"a": "1", "big": "2", "gone": "3"})))
def test_fuzzed_forms_never_fail_and_refusals_change_nothing(form_name, shop, shopper):
    who, requests = _forms(shop)[form_name]
    client = Client(raise_request_exception=False)
    if who == "shopper":
        client.force_login(shopper)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(request=requests)
    def fuzz(request: tuple[str, str, dict[str, Any]]) -> None:
        method, path, data = request
        before = shop_state()
        response = client.get(path, data) if method == "GET" else client.post(path, data)
        assert response.status_code < 500, (response.status_code, request)
        if _refused(response):
            assert shop_state() == before, request

    fuzz()
