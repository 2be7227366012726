"""Keep an external store's copy of the catalogue current when products change here.

With the default database store these do nothing (the row is the product)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from catalog.models import Product, ProductImage
from haat.store import ProductState, get_store


def product_state(product: Product) -> ProductState:
    image = product.images.order_by("position", "id").values_list("image", flat=True).first()
    url = ProductImage(image=image).image.url if image else ""
    return ProductState(
        product.pk,
        product.slug,
        product.name,
        product.price_minor,
        product.stock,
        product.is_published,
        url,
    )


def product_saved(sender: Any, instance: Product, **kwargs: Any) -> None:
    if settings.STORE_BACKEND != "database" and not kwargs.get("raw"):
        get_store().product_sync(product_state(instance))


def image_saved(sender: Any, instance: ProductImage, **kwargs: Any) -> None:
    if settings.STORE_BACKEND != "database" and not kwargs.get("raw"):
        get_store().product_sync(product_state(instance.product))


def product_deleted(sender: Any, instance: Product, **kwargs: Any) -> None:
    if settings.STORE_BACKEND != "database":
        get_store().product_remove(instance.pk)
