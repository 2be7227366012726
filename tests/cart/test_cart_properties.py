"""Random sequences of cart and wishlist operations against a plain in-memory model.

Hypothesis drives the real services (and the store underneath) and a few lines of obvious Python
side by side; after every step both must agree on the outcome (accepted, or refused with the
same code) and on the resulting cart and wishlist, and every invariant must hold."""

from __future__ import annotations

import itertools

import pytest
from django.conf import settings as django_settings
from django.db import connection
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from accounts.models import User
from cart import selectors as cart_selectors
from cart import services as cart_services
from catalog.models import Category, Product
from catalog.services import stock_adjust
from haat.errors import DomainError
from wishlist import selectors as wishlist_selectors
from wishlist import services as wishlist_services

pytestmark = pytest.mark.django_db
UNKNOWN_PRODUCT = 10**12
_ids = itertools.count()
quantities = st.one_of(st.integers(min_value=-1, max_value=8), st.just(10**7))


class Model:
    """The rules, written as plainly as possible."""

    def __init__(self, stock: dict[int, int]) -> None:
        self.stock = dict(stock)
        self.published = dict.fromkeys(stock, True)
        self.cart: dict[int, int] = {}
        self.wishlist: list[int] = []

    def add(self, pid: int, qty: int) -> str | None:
        if not 1 <= qty <= 10_000:
            return "invalid_quantity"
        if pid not in self.stock:
            return "product_not_found"
        if not self.published[pid]:
            return "product_unavailable"
        if qty > max(0, self.stock[pid] - self.cart.get(pid, 0)):
            return "insufficient_stock"
        self.cart[pid] = self.cart.get(pid, 0) + qty
        return None

    def set(self, pid: int, qty: int) -> str | None:
        if not 1 <= qty <= 10_000:
            return "invalid_quantity"
        if pid not in self.cart:
            return "line_not_found"
        if not self.published[pid]:
            return "product_unavailable"
        if qty > self.stock[pid]:
            return "insufficient_stock"
        self.cart[pid] = qty
        return None

    def remove(self, pid: int) -> str | None:
        if pid not in self.cart:
            return "line_not_found"
        del self.cart[pid]
        return None

    def toggle(self, pid: int) -> str | None:
        if pid in self.wishlist:
            self.wishlist.remove(pid)
            return None
        if pid not in self.stock:
            return "product_not_found"
        if not self.published[pid]:
            return "product_unavailable"
        self.wishlist.insert(0, pid)
        return None


def outcome(action) -> str | None:
    try:
        action()
    except DomainError as refusal:
        return refusal.code
    return None


class CartMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        n = next(_ids)
        self.user = User.objects.create_user(email=f"prop{n}@example.com", password=None)
        category = Category.objects.create(name=f"Prop {n}", slug=f"prop-{n}")
        self.products = []
        for i, stock in enumerate((0, 1, 2, 5)):
            product = Product.objects.create(
                category=category, name=f"P{n}-{i}", slug=f"p{n}-{i}", price_minor=100 * (i + 1)
            )
            if stock:
                stock_adjust(product_id=product.pk, delta=stock, reason="initial")
            self.products.append(product.pk)
        self.model = Model({pid: s for pid, s in zip(self.products, (0, 1, 2, 5), strict=True)})

    product_index = st.integers(min_value=0, max_value=4)  # 4 means an unknown product

    def pid(self, index: int) -> int:
        return self.products[index] if index < len(self.products) else UNKNOWN_PRODUCT

    @rule(index=product_index, qty=quantities)
    def add(self, index: int, qty: int) -> None:
        pid = self.pid(index)
        got = outcome(
            lambda: cart_services.cart_add_line(user_id=self.user.pk, product_id=pid, quantity=qty)
        )
        assert got == self.model.add(pid, qty)

    @rule(index=product_index, qty=quantities)
    def set_quantity(self, index: int, qty: int) -> None:
        pid = self.pid(index)
        got = outcome(
            lambda: cart_services.cart_set_quantity(
                user_id=self.user.pk, product_id=pid, quantity=qty
            )
        )
        assert got == self.model.set(pid, qty)

    @rule(index=product_index)
    def remove(self, index: int) -> None:
        pid = self.pid(index)
        got = outcome(lambda: cart_services.cart_remove_line(user_id=self.user.pk, product_id=pid))
        assert got == self.model.remove(pid)

    @rule(indexes=st.lists(product_index, max_size=5))
    def remove_selected(self, indexes: list[int]) -> None:
        pids = [self.pid(i) for i in indexes]
        result = cart_services.cart_remove_lines(user_id=self.user.pk, product_ids=pids)
        expected_removed = [pid for pid in dict.fromkeys(pids) if pid in self.model.cart]
        for pid in expected_removed:
            del self.model.cart[pid]
        assert result.removed == expected_removed

    @rule(index=product_index)
    def toggle_wishlist(self, index: int) -> None:
        pid = self.pid(index)
        got = outcome(
            lambda: wishlist_services.wishlist_toggle(user_id=self.user.pk, product_id=pid)
        )
        assert got == self.model.toggle(pid)

    @rule(index=st.integers(min_value=0, max_value=3), amount=st.integers(min_value=1, max_value=3))
    def someone_else_buys(self, index: int, amount: int) -> None:
        pid = self.products[index]
        got = outcome(lambda: stock_adjust(product_id=pid, delta=-amount, reason="sale"))
        if self.model.stock[pid] >= amount:
            assert got is None
            self.model.stock[pid] -= amount
        else:
            assert got == "insufficient_stock"

    @rule(index=st.integers(min_value=0, max_value=3), amount=st.integers(min_value=1, max_value=3))
    def restock(self, index: int, amount: int) -> None:
        stock_adjust(product_id=self.products[index], delta=amount, reason="restock")
        self.model.stock[self.products[index]] += amount

    @rule(index=st.integers(min_value=0, max_value=3))
    def flip_published(self, index: int) -> None:
        pid = self.products[index]
        self.model.published[pid] = not self.model.published[pid]
        product = Product.objects.get(pk=pid)
        product.is_published = self.model.published[pid]
        product.save()  # through save(), so an external store hears about it too

    @invariant()
    def store_agrees_with_model(self) -> None:
        view = cart_selectors.cart_get(user_id=self.user.pk)
        assert {line.product_id: line.quantity for line in view.lines} == self.model.cart
        for line in view.lines:
            assert line.quantity >= 1
            assert line.short_by == (
                max(0, line.quantity - self.model.stock[line.product_id])
                if self.model.published[line.product_id]
                else line.quantity
            )
        wishlist = wishlist_selectors.wishlist_contents(user_id=self.user.pk)
        assert wishlist.product_ids == self.model.wishlist


# The breadth of the search runs where a step costs least (in-memory SQLite, ~2 s for 60 runs);
# PostgreSQL and the Sanity store, where each step is one or more round trips (60 runs took over
# a minute on PostgreSQL, six on Sanity, on a loaded machine), run the same machine on fewer
# examples: each still takes every rule many times.
def examples() -> int:
    if django_settings.STORE_BACKEND == "sanity":
        return 10
    return 60 if connection.vendor == "sqlite" else 20


def test_services_agree_with_the_model():
    run_state_machine_as_test(
        CartMachine,
        settings=settings(
            max_examples=examples(),
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
