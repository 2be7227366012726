"""Wishlist items saved before prices were kept start from today's price, with no alert."""

from __future__ import annotations

import pytest

from tests.migration_helpers import migrate_app

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def old_schema():
    apps = migrate_app("wishlist", "0002_datetimes_stored_as_by_the_orm")
    yield apps
    migrate_app("wishlist", None)


def test_existing_items_get_the_current_price(old_schema, make_user, make_product):
    Wishlist = old_schema.get_model("wishlist", "Wishlist")
    WishlistItem = old_schema.get_model("wishlist", "WishlistItem")
    shopper = make_user()
    kept, gone = make_product(price_minor=99000), make_product(price_minor=5000)
    wishlist = Wishlist.objects.create(user_id=shopper.pk)
    for product in (kept, gone):
        WishlistItem.objects.create(
            wishlist=wishlist,
            product_id=product.pk,
            product_ref=product.pk,
            product_name=product.name,
            product_slug=product.slug,
        )
    WishlistItem.objects.filter(product_ref=gone.pk).update(product=None)  # product deleted

    apps = migrate_app("wishlist", "0003_price_at_add_and_alerts")
    items = apps.get_model("wishlist", "WishlistItem").objects.order_by("product_ref")
    assert [(i.product_ref, i.added_price_minor, i.alert_wanted, i.alert_sent) for i in items] == [
        (kept.pk, 99000, False, False),
        (gone.pk, None, False, False),
    ]
