"""What every storage backend must do, whatever it keeps its data in."""

from __future__ import annotations

import pytest

from haat.errors import InsufficientStock, ProductNotFound, ProductUnavailable, ShortItem
from haat.store import WishlistEntry


def test_products_reports_current_state_and_skips_unknown_ids(store, make_product):
    product = make_product(stock=4, price_minor=9900, name="Jute Bag")
    states = store.products([product.pk, 987654])
    assert list(states) == [product.pk]
    state = states[product.pk]
    assert (state.name, state.slug, state.price_minor, state.stock, state.is_published) == (
        "Jute Bag",
        product.slug,
        9900,
        4,
        True,
    )
    assert store.products([]) == {}


def test_stock_adjust_is_conditional(store, make_product):
    product = make_product(stock=3)
    assert store.stock_adjust(product.pk, -2) == (product.name, 1)
    with pytest.raises(InsufficientStock):
        store.stock_adjust(product.pk, -2)
    assert store.products([product.pk])[product.pk].stock == 1
    assert store.stock_adjust(product.pk, 5)[1] == 6
    with pytest.raises(ProductNotFound):
        store.stock_adjust(424242, 1)


def test_stock_take_is_all_or_nothing(store, make_product):
    plenty, scarce = make_product(stock=10), make_product(stock=1)
    with pytest.raises(InsufficientStock) as refusal:
        store.stock_take({plenty.pk: 3, scarce.pk: 2})
    assert refusal.value.items == [ShortItem(scarce.pk, scarce.name, 2, 1)]
    states = store.products([plenty.pk, scarce.pk])
    assert (states[plenty.pk].stock, states[scarce.pk].stock) == (10, 1)
    assert store.stock_take({plenty.pk: 3, scarce.pk: 1}) == {plenty.pk: 7, scarce.pk: 0}


def test_empty_cart_reads_without_creating_anything(store, shopper):
    contents = store.cart_get(shopper.pk)
    assert contents.lines == {}
    assert contents.version == 0


def test_cart_update_applies_change_and_bumps_version(store, shopper, make_product):
    a, b = make_product(stock=5), make_product(stock=5)
    first = store.cart_update(shopper.pk, [a.pk], lambda lines, products: {**lines, a.pk: 2})
    second = store.cart_update(shopper.pk, [b.pk], lambda lines, products: {**lines, b.pk: 1})
    assert second.lines == {a.pk: 2, b.pk: 1}
    assert second.version > first.version > 0
    assert store.cart_get(shopper.pk) == second


def test_cart_change_sees_the_products_it_asked_for(store, shopper, make_product):
    product = make_product(stock=7)
    seen = {}

    def change(lines, products):
        seen.update(products)
        return lines

    store.cart_update(shopper.pk, [product.pk], change)
    assert seen[product.pk].stock == 7


def test_unchanged_cart_keeps_its_version(store, shopper, make_product):
    product = make_product()
    before = store.cart_update(shopper.pk, [product.pk], lambda lines, _: {**lines, product.pk: 1})
    after = store.cart_update(shopper.pk, [], lambda lines, _: lines)
    assert after == before


def test_refused_change_changes_nothing(store, shopper, make_product):
    product = make_product()
    before = store.cart_update(shopper.pk, [product.pk], lambda lines, _: {**lines, product.pk: 1})

    def refuse(lines, products):
        lines[product.pk] = 99
        raise ProductUnavailable(product_id=product.pk)

    with pytest.raises(ProductUnavailable):
        store.cart_update(shopper.pk, [product.pk], refuse)
    assert store.cart_get(shopper.pk) == before


def test_cart_lines_can_be_removed_and_reduced(store, shopper, make_product):
    a, b = make_product(), make_product()
    store.cart_update(shopper.pk, [], lambda lines, _: {a.pk: 3, b.pk: 2})
    contents = store.cart_update(shopper.pk, [], lambda lines, _: {a.pk: 1})
    assert store.cart_get(shopper.pk).lines == contents.lines == {a.pk: 1}


def test_carts_are_per_user(store, make_user, make_product):
    alice, bob = make_user(), make_user()
    product = make_product()
    store.cart_update(alice.pk, [], lambda lines, _: {product.pk: 2})
    assert store.cart_get(bob.pk).lines == {}


def test_wishlist_keeps_newest_first_and_names(store, shopper, make_product):
    a, b = make_product(name="Alpha"), make_product(name="Beta")
    store.wishlist_update(shopper.pk, [], lambda items, _: [WishlistEntry(a.pk, a.name, a.slug)])
    contents = store.wishlist_update(
        shopper.pk, [], lambda items, _: [WishlistEntry(b.pk, b.name, b.slug), *items]
    )
    assert [item.name for item in contents.items] == ["Beta", "Alpha"]
    assert store.wishlist_get(shopper.pk) == contents
    emptied = store.wishlist_update(shopper.pk, [], lambda items, _: [])
    assert emptied.items == ()
    assert emptied.version > contents.version


def test_wishlist_item_outlives_its_product(store, shopper, make_product):
    product = make_product(name="Gone Soon")
    store.wishlist_update(
        shopper.pk, [], lambda items, _: [WishlistEntry(product.pk, product.name, product.slug)]
    )
    product_id = product.pk
    product.delete()
    contents = store.wishlist_get(shopper.pk)
    assert contents.items == (WishlistEntry(product_id, "Gone Soon", product.slug),)
    assert store.products([product_id]) == {}


def test_wishlist_keeps_price_at_add_and_alert_flags(store, shopper, make_product):
    a, b = make_product(price_minor=5000), make_product(price_minor=7000)
    store.wishlist_update(
        shopper.pk,
        [],
        lambda items, _: [
            WishlistEntry(a.pk, a.name, a.slug, 5000),
            WishlistEntry(b.pk, b.name, b.slug, 7000, alert_wanted=True),
        ],
    )
    got = store.wishlist_get(shopper.pk).items
    assert [(e.product_id, e.added_price_minor, e.alert_wanted, e.alert_sent) for e in got] == [
        (a.pk, 5000, False, False),
        (b.pk, 7000, True, False),
    ]
    # Changing only an item's flags is a change the store keeps.
    flipped = store.wishlist_update(
        shopper.pk,
        [],
        lambda items, _: [
            WishlistEntry(e.product_id, e.name, e.slug, e.added_price_minor, False, True)
            if e.product_id == b.pk
            else e
            for e in items
        ],
    )
    assert store.wishlist_get(shopper.pk) == flipped
    assert flipped.items[1].alert_sent and not flipped.items[1].alert_wanted
    assert flipped.items[1].added_price_minor == 7000


def test_wishlist_alerts_wanted_lists_who_waits_for_what(store, make_user, make_product):
    first, second, third = make_user(), make_user(), make_user()
    fan, lamp = make_product(stock=0), make_product(stock=0)

    def save(user, *entries):
        store.wishlist_update(user.pk, [], lambda items, _: list(entries))

    save(first, WishlistEntry(fan.pk, fan.name, fan.slug, 1, alert_wanted=True))
    save(
        second,
        WishlistEntry(fan.pk, fan.name, fan.slug, 1, alert_wanted=True),
        WishlistEntry(lamp.pk, lamp.name, lamp.slug, 1, alert_wanted=True),
    )
    save(third, WishlistEntry(fan.pk, fan.name, fan.slug, 1, alert_sent=True))

    def pairs(wanted):
        return sorted((a.user_id, a.product_id) for a in store.wishlist_alerts_wanted(wanted))

    assert pairs(None) == sorted([(first.pk, fan.pk), (second.pk, fan.pk), (second.pk, lamp.pk)])
    assert pairs([lamp.pk]) == [(second.pk, lamp.pk)]
    assert pairs([]) == []


def test_a_change_that_changes_nothing_makes_no_cart(store, shopper, make_product):
    product = make_product()
    untouched = store.cart_update(shopper.pk, [product.pk], lambda lines, _: lines)
    assert (untouched.version, untouched.lines) == (0, {})
    assert store.cart_get(shopper.pk) == untouched
    first = store.cart_update(shopper.pk, [product.pk], lambda lines, _: {product.pk: 1})
    assert first.version == 1


def test_shopper_get_reads_the_cart_and_wishlist_together(store, make_user, make_product):
    """What the header reads in one go is what cart_get and wishlist_get say, in their order."""
    shopper, other = make_user(), make_user()
    assert store.shopper_get(shopper.pk) == (
        store.cart_get(shopper.pk),
        store.wishlist_get(shopper.pk),
    )
    a, b, c = make_product(name="Alpha"), make_product(name="Beta"), make_product(name="Gamma")
    for product, quantity in ((b, 2), (a, 1), (c, 3)):
        store.cart_update(
            shopper.pk, [product.pk], lambda lines, _, p=product, q=quantity: {**lines, p.pk: q}
        )
    store.cart_update(other.pk, [a.pk], lambda lines, _: {a.pk: 5})
    assert store.shopper_get(shopper.pk) == (
        store.cart_get(shopper.pk),
        store.wishlist_get(shopper.pk),
    )
    for product in (c, a, b):
        entry = WishlistEntry(
            product.pk, product.name, product.slug, 100, alert_wanted=product is a
        )
        store.wishlist_update(shopper.pk, [], lambda items, _, e=entry: [e, *items])
    store.wishlist_update(other.pk, [], lambda items, _: [WishlistEntry(c.pk, c.name, c.slug)])
    cart, wishlist = store.shopper_get(shopper.pk)
    assert (cart, wishlist) == (store.cart_get(shopper.pk), store.wishlist_get(shopper.pk))
    assert list(cart.lines.items()) == [(b.pk, 2), (a.pk, 1), (c.pk, 3)]
    assert [item.name for item in wishlist.items] == ["Beta", "Alpha", "Gamma"]
    assert cart.version > 0 and wishlist.version > 0
    store.cart_update(shopper.pk, [], lambda lines, _: {})
    assert store.shopper_get(shopper.pk) == (
        store.cart_get(shopper.pk),
        store.wishlist_get(shopper.pk),
    )
