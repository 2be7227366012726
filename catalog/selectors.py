"""Reads for the catalogue. Whether a product can be bought is ``catalog.availability``."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from catalog.availability import Availability, availability_of
from catalog.models import Category, Product, ProductImage
from haat.errors import ProductNotFound
from haat.store import get_store


def _with_images(queryset: QuerySet[Product]) -> QuerySet[Product]:
    return queryset.select_related("category").prefetch_related(
        Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))
    )


def product_list_published(
    *, category: Category | None = None, query: str = ""
) -> QuerySet[Product]:
    products = Product.objects.filter(is_published=True)
    if category is not None:
        products = products.filter(category=category)
    query = query.strip()
    if query:
        for word in query.split()[:8]:
            products = products.filter(
                Q(name__icontains=word)
                | Q(description__icontains=word)
                | Q(category__name__icontains=word)
            )
    return _with_images(products).order_by("-created_at", "-id")


def product_get_published(*, slug: str) -> Product:
    return get_object_or_404(_with_images(Product.objects.filter(is_published=True)), slug=slug)


def category_list() -> QuerySet[Category]:
    return Category.objects.all()


def category_get(*, slug: str) -> Category:
    return get_object_or_404(Category, slug=slug)


def product_availability(*, product_id: int) -> Availability:
    """The product's availability as the store holds it now (what a cart would be checked
    against); a product that is not on sale is ``unavailable``."""
    product = get_store().products([product_id]).get(product_id)
    if product is None:
        raise ProductNotFound("This product does not exist.", product_id=product_id)
    return availability_of(stock=product.stock, is_published=product.is_published)
