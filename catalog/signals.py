"""Tell the store when products change outside the catalogue services (a model saved or
deleted directly: the admin's change form, a shell, a management command).

The store only records the change, in the transaction that saves it, and a store keeping a
copy elsewhere (Sanity) delivers it after commit; with the default database store these do
nothing (the row is the product). Bulk changes go through ``catalog.services``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone

from catalog import cached
from catalog.models import Category, Product, ProductImage
from catalog.services import product_image_variants_make
from haat.store import get_store


def product_saved(sender: Any, instance: Product, **kwargs: Any) -> None:
    if settings.STORE_BACKEND != "database" and not kwargs.get("raw"):
        get_store().products_changed([instance.pk])


def image_changed(sender: Any, instance: ProductImage, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    # A new version of the product, so its cached page and cards show the images at once.
    Product.objects.filter(pk=instance.product_id).update(updated_at=timezone.now())
    if settings.STORE_BACKEND != "database":
        get_store().products_changed([instance.product_id])


def category_changed(sender: Any, instance: Category, **kwargs: Any) -> None:
    cached.categories_changed()


def image_saved(sender: Any, instance: ProductImage, **kwargs: Any) -> None:
    """A new or replaced picture gets its sized copies now, not when a page first shows it."""
    if kwargs.get("raw") or not instance.needs_variants:
        return
    if product_image_variants_make(image_id=instance.pk):
        # The row now says what was drawn; a later save of this object must not undo it.
        instance.refresh_from_db(fields=["width", "height", "variant_widths", "variants_of"])


def product_deleted(sender: Any, instance: Product, **kwargs: Any) -> None:
    if settings.STORE_BACKEND != "database":
        get_store().products_changed([instance.pk])
