"""Refusals are typed: a code, a message from the one catalogue (haat.errors.MESSAGES), and
details in one shape per code, whichever layer refused."""

from __future__ import annotations

import importlib
import pickle

import pytest
from django.utils.functional import Promise

from cart.services import cart_add_line, cart_set_quantity
from catalog.services import stock_adjust, stock_take
from checkout.selectors import LineProblem, checkout_preview
from checkout.services import checkout_start
from haat.errors import LINE_MESSAGES, MESSAGES, DomainError, InsufficientStock, ShortItem
from haat.limits import RateLimited
from haat.store import get_store
from tests.api_helpers import assert_error, call

# Every module that defines a refusal.
REFUSAL_MODULES = [
    "haat.errors",
    "haat.limits",
    "accounts.services",
    "checkout.selectors",
    "checkout.services",
    "payments.gateways.base",
]
SHORT_ITEM_KEYS = {"product_id", "name", "requested", "available"}


def _refusal_classes() -> set[type[DomainError]]:
    for module in REFUSAL_MODULES:
        importlib.import_module(module)
    found: set[type[DomainError]] = set()
    todo = [DomainError]
    while todo:
        for subclass in todo.pop().__subclasses__():
            found.add(subclass)
            todo.append(subclass)
    return found


def test_every_refusal_has_a_translatable_message_in_the_catalogue():
    classes = _refusal_classes()
    assert len(classes) >= 20
    missing = sorted(cls.__name__ for cls in classes if cls.code not in MESSAGES)
    assert missing == []
    assert all(isinstance(text, Promise) for text in [*MESSAGES.values(), *LINE_MESSAGES.values()])


def test_a_refusal_without_a_catalogue_message_cannot_be_raised():
    with pytest.raises(KeyError):
        DomainError(message_key="no_such_message")


def test_refusals_survive_pickling():
    short = InsufficientStock(items=[ShortItem(1, "Mug", 3, 2)])
    again = pickle.loads(pickle.dumps(short))  # noqa: S301 (bytes made here)
    assert (again.code, again.details, again.message) == (short.code, short.details, short.message)
    busy = pickle.loads(pickle.dumps(RateLimited(retry_after=30)))  # noqa: S301
    assert busy.retry_after == 30 and busy.message == RateLimited(retry_after=30).message


def _one_shape(refusal: InsufficientStock) -> list[dict]:
    assert refusal.code == "insufficient_stock"
    assert set(refusal.details) == {"items"}
    assert all(set(item) == SHORT_ITEM_KEYS for item in refusal.details["items"])
    return refusal.details["items"]


def test_insufficient_stock_has_one_shape_from_every_layer(shopper, make_product):
    product = make_product(stock=3, name="Steel Kettle")
    other = make_product(stock=1, name="Mug")
    expected = {"product_id": product.pk, "name": "Steel Kettle", "available": 3}

    cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=2)
    with pytest.raises(InsufficientStock) as cart_add:
        cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=2)
    assert _one_shape(cart_add.value) == [{**expected, "requested": 4}]

    with pytest.raises(InsufficientStock) as cart_set:
        cart_set_quantity(user_id=shopper.pk, product_id=product.pk, quantity=5)
    assert _one_shape(cart_set.value) == [{**expected, "requested": 5}]

    with pytest.raises(InsufficientStock) as adjust:
        stock_adjust(product_id=product.pk, delta=-7, reason="sale")
    assert _one_shape(adjust.value) == [{**expected, "requested": 7}]

    with pytest.raises(InsufficientStock) as take:
        stock_take(quantities={product.pk: 4, other.pk: 1}, reason="reservation")
    assert _one_shape(take.value) == [{**expected, "requested": 4}]

    with pytest.raises(InsufficientStock) as store_take:
        get_store().stock_take({product.pk: 9})
    assert _one_shape(store_take.value) == [{**expected, "requested": 9}]

    with pytest.raises(InsufficientStock) as checkout:
        checkout_start(
            user_id=shopper.pk,
            buy_now=(product.pk, 4),
            success_url="http://shop.test/ok",
            cancel_url="http://shop.test/back",
        )
    assert _one_shape(checkout.value) == [{**expected, "requested": 4}]


def test_insufficient_stock_message_names_the_one_short_product(make_product):
    kettle = ShortItem(1, "Steel Kettle", 4, 3)
    assert InsufficientStock(items=[kettle]).message_key == "insufficient_stock.one"
    assert "Steel Kettle" in InsufficientStock(items=[kettle]).message
    sold_out = InsufficientStock(items=[ShortItem(1, "Steel Kettle", 1, 0)])
    assert sold_out.message_key == "insufficient_stock.sold_out"
    several = InsufficientStock(items=[kettle, ShortItem(2, "Mug", 2, 1)])
    assert several.message_key == "insufficient_stock"
    assert several.message == str(MESSAGES["insufficient_stock"])


def test_the_api_answers_the_same_shape(shopper_client, shopper, make_product):
    product = make_product(stock=2, name="Mug")
    response = call(
        shopper_client, "POST", "/api/cart/lines", {"product_id": product.pk, "quantity": 3}
    )
    payload = assert_error(response, 409, "insufficient_stock")
    assert payload["details"] == {
        "items": [{"product_id": product.pk, "name": "Mug", "requested": 3, "available": 2}]
    }
    assert (
        payload["message"] == InsufficientStock(items=[ShortItem(product.pk, "Mug", 3, 2)]).message
    )


def test_checkout_line_problems_are_typed(shopper, make_product, settings):
    settings.CHECKOUT_MAX_UNITS_PER_PRODUCT = 5
    short = make_product(stock=5, name="Short")
    hidden = make_product(stock=9, name="Hidden")
    plenty = make_product(stock=50, name="Plenty")
    fine = make_product(stock=9, name="Fine")
    for product, quantity in [(short, 2), (hidden, 1), (plenty, 5), (fine, 1)]:
        cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=quantity)
    settings.CHECKOUT_MAX_UNITS_PER_PRODUCT = 4
    hidden.is_published = False
    hidden.save()
    stock_adjust(product_id=short.pk, delta=-4, reason="sale")  # someone else bought 4
    preview = checkout_preview(
        user_id=shopper.pk, product_ids=[short.pk, hidden.pk, plenty.pk, fine.pk]
    )
    problems = {item.name: item.problem for item in preview.problems}
    assert problems == {
        "Short": LineProblem.SHORT,
        "Hidden": LineProblem.UNAVAILABLE,
        "Plenty": LineProblem.OVER_LIMIT,
    }
    fine_item = next(item for item in preview.items if item.name == "Fine")
    assert fine_item.problem is None and fine_item.problem_message == ""
    by_name = {item.name: item for item in preview.problems}
    assert by_name["Short"].problem_message == str(LINE_MESSAGES["short"]) % {
        "name": "Short",
        "quantity": 2,
        "limit": 4,
        "available": 1,
    }
