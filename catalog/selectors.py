"""Reads for the catalogue. Availability is decided in exactly one place: ``availability``."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from catalog.models import Category, Product, ProductImage


@dataclass(frozen=True)
class Availability:
    stock: int
    in_cart: int
    is_published: bool = True

    @property
    def in_stock(self) -> bool:
        return self.is_published and self.stock > 0

    @property
    def addable(self) -> int:
        """How many more units this shopper may put in the cart right now."""
        if not self.is_published:
            return 0
        return max(0, self.stock - self.in_cart)

    @property
    def is_low(self) -> bool:
        return 0 < self.stock <= settings.LOW_STOCK_THRESHOLD

    @property
    def label(self) -> str:
        if not self.is_published:
            return "No longer available"
        if self.stock <= 0:
            return "Out of stock"
        if self.is_low:
            return f"Only {self.stock} left"
        return "In stock"


def availability(*, stock: int, in_cart: int = 0, is_published: bool = True) -> Availability:
    return Availability(stock=stock, in_cart=in_cart, is_published=is_published)


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


def ledger_mismatches() -> list[int]:
    """Products whose stock is not the sum of their ledger rows (there should be none: both
    change in one transaction). Read by the store reconciliation, which reports them."""
    return list(
        Product.objects.annotate(ledger=Coalesce(Sum("stock_movements__delta"), 0))
        .exclude(stock=F("ledger"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
