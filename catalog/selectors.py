"""Reads for the catalogue. Whether a product can be bought is ``catalog.availability``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple, dataclass
from datetime import datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import (
    DEFERRED,
    Case,
    Count,
    Expression,
    ExpressionWrapper,
    F,
    FloatField,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    Window,
    prefetch_related_objects,
)
from django.db.models.functions import Cast, Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy

from catalog import cached
from catalog.availability import Availability, availability_of
from catalog.models import Category, Product, ProductImage
from haat.errors import ProductNotFound
from haat.store import get_store


def _images() -> Prefetch:
    return Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))


def _with_images(queryset: QuerySet[Product]) -> QuerySet[Product]:
    return queryset.select_related("category").prefetch_related(_images())


# What a listing reads per product: what a card's cache key holds (catalog_extras.product_cards)
# and what a card shows. No description, category or images: cards come from the shared cache,
# and only the products whose card is missing there have their images read
# (``listing_images_load``).
LISTING_FIELDS = (
    "pk",
    "name",
    "slug",
    "price_minor",
    "list_price_minor",
    "stock",
    "is_published",
    "created_at",
    "updated_at",
)


def listing_images_load(products: list[Product]) -> None:
    """Read the images of these listing products (one query), for rendering their cards."""
    prefetch_related_objects(products, _images())


class ListingSort(models.TextChoices):
    RELEVANCE = "relevance", gettext_lazy("Best match")
    NEWEST = "newest", gettext_lazy("Newest")
    PRICE_LOW = "price_asc", gettext_lazy("Price: low to high")
    PRICE_HIGH = "price_desc", gettext_lazy("Price: high to low")
    DISCOUNT = "discount", gettext_lazy("Biggest discount")


@dataclass(frozen=True)
class ListingOptions:
    """How a shopper sorts and narrows a listing (catalog.forms.ListingForm reads it from the URL)."""

    sort: str = ListingSort.RELEVANCE
    min_price_minor: int | None = None
    max_price_minor: int | None = None
    in_stock_only: bool = False


# Where a search word appears decides its weight for "Best match": the name counts most.
_NAME_WEIGHT, _CATEGORY_WEIGHT, _DESCRIPTION_WEIGHT = 4, 2, 1


def _match_score(words: list[str]) -> Expression:
    score: Expression = Value(0)
    for word in words:
        for lookup, weight in (
            ("name__icontains", _NAME_WEIGHT),
            ("category__name__icontains", _CATEGORY_WEIGHT),
            ("description__icontains", _DESCRIPTION_WEIGHT),
        ):
            score = score + Case(When(Q(**{lookup: word}), then=Value(weight)), default=Value(0))
    return score


# The share of the list price taken off; 0 for products without a (higher) list price.
_DISCOUNT_SHARE = Case(
    When(
        list_price_minor__gt=F("price_minor"),
        then=ExpressionWrapper(
            Value(1.0) - Cast("price_minor", FloatField()) / Cast("list_price_minor", FloatField()),
            output_field=FloatField(),
        ),
    ),
    default=Value(0.0),
    output_field=FloatField(),
)

# Newest first breaks every tie, then the id, so pages never repeat or skip a product.
_NEWEST = ("-created_at", "-id")


def product_list_published(
    *,
    category: Category | cached.MenuCategory | None = None,
    query: str = "",
    options: ListingOptions = ListingOptions(),
) -> QuerySet[Product]:
    products = Product.objects.filter(is_published=True)
    if category is not None:
        products = products.filter(category_id=category.pk)
    words = query.split()[:8]
    for word in words:
        products = products.filter(
            Q(name__icontains=word)
            | Q(description__icontains=word)
            | Q(category__name__icontains=word)
        )
    if options.min_price_minor is not None:
        products = products.filter(price_minor__gte=options.min_price_minor)
    if options.max_price_minor is not None:
        products = products.filter(price_minor__lte=options.max_price_minor)
    if options.in_stock_only:
        products = products.filter(stock__gt=0)

    order: tuple[str, ...] = _NEWEST
    if options.sort == ListingSort.PRICE_LOW:
        order = ("price_minor", *_NEWEST)
    elif options.sort == ListingSort.PRICE_HIGH:
        order = ("-price_minor", *_NEWEST)
    elif options.sort == ListingSort.DISCOUNT:
        products = products.annotate(discount_share=_DISCOUNT_SHARE)
        order = ("-discount_share", *_NEWEST)
    elif options.sort == ListingSort.RELEVANCE and words:
        products = products.annotate(match_score=_match_score(words))
        order = ("-match_score", *_NEWEST)
    return products.only(*LISTING_FIELDS).order_by(*order)


@dataclass(frozen=True)
class Listing:
    """What a listing shows: the published products of a category and/or matching search words,
    sorted and narrowed by the shopper's options."""

    category: cached.MenuCategory | None = None
    query: str = ""
    options: ListingOptions = ListingOptions()

    def products(self) -> QuerySet[Product]:
        return product_list_published(
            category=self.category, query=self.query, options=self.options
        )


@dataclass(frozen=True)
class ListingRow:
    """A listed product as the listing's query read it (``LISTING_FIELDS``): what a card's cache
    key holds and a card shows. Cards come from the shared cache, so a model instance is made
    only for a card that is missing there (``product``)."""

    pk: int
    name: str
    slug: str
    price_minor: int
    list_price_minor: int | None
    stock: int
    is_published: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, product: Product) -> ListingRow:
        return cls(*(getattr(product, name) for name in LISTING_FIELDS))

    def product(self) -> Product:
        """The product as ``.only(*LISTING_FIELDS)`` would load it (its other fields deferred)."""
        read = dict(zip(_LISTING_ATTNAMES, astuple(self), strict=True))
        fields = Product._meta.concrete_fields
        values = [read.get(field.attname, DEFERRED) for field in fields]
        return Product.from_db(DEFAULT_DB_ALIAS, list(read), values)


_LISTING_ATTNAMES = ("id", *LISTING_FIELDS[1:])

# Page numbers past this go the long way (a COUNT first): no OFFSET the database would refuse.
_MAX_DIRECT_PAGE = 100_000

# The SQL of the latest reads this process made by ``_rows`` (a listing's page, a product's live
# fields): working it out through the ORM cost as much as running it. Only the statement is
# kept, under everything it is made from; its rows are read from the database every time.
_STATEMENTS: dict[object, tuple[str, tuple[Any, ...]]] = {}
_STATEMENTS_KEPT = 1024


def _rows(key: object, build: Callable[[], QuerySet[Any]]) -> list[tuple[Any, ...]]:
    """The rows of ``build()`` (a ``values_list`` query), its SQL kept under ``key``. PostgreSQL
    gives these columns as the ORM would (numbers, text, booleans, aware datetimes); another
    database (SQLite in development) is read through the ORM, which converts them."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        return list(build())
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = build().query.sql_with_params()
        if len(_STATEMENTS) >= _STATEMENTS_KEPT:
            oldest = next(iter(_STATEMENTS), None)
            if oldest is not None:
                _STATEMENTS.pop(oldest, None)  # another thread may have taken it: no KeyError
        _STATEMENTS[key] = statement
    with connection.cursor() as cursor:
        cursor.execute(*statement)
        return cursor.fetchall()


def _listing_rows(listing: Listing, start: int, length: int) -> list[tuple[Any, ...]]:
    """The rows ``start`` to ``start + length`` of a listing: ``LISTING_FIELDS`` and the
    listing's total (a window count, taken before LIMIT)."""

    def build() -> QuerySet[Any]:
        counted = listing.products().annotate(listing_total=Window(Count("*")))
        return counted.values_list(*LISTING_FIELDS, "listing_total")[start : start + length]

    return _rows(("listing", listing, start, length), build)


def listing_page(listing: Listing, number: int, per_page: int) -> Page:
    """Page ``number`` (from 1) of a listing, its rows as ``ListingRow``. The page's rows carry the
    listing's total, so a page that has rows costs one query, not a COUNT and then the rows; a
    number past the end gets the COUNT and the last page, as Django's paginator does."""
    if number <= _MAX_DIRECT_PAGE:
        rows = _listing_rows(listing, (number - 1) * per_page, per_page)
        if rows:
            counted = Paginator((), per_page)  # the rows are read: it only counts the pages
            counted.count = rows[0][-1]
            return Page([ListingRow(*row[:-1]) for row in rows], number, counted)
    paginator = Paginator(listing.products(), per_page)
    page = paginator.get_page(number)
    return Page([ListingRow.of(product) for product in page], page.number, paginator)


def product_get_published(*, slug: str) -> Product:
    return get_object_or_404(_with_images(Product.objects.filter(is_published=True)), slug=slug)


# Read live on every product page: what a sale, a price change or withdrawal changes at once.
_LIVE_FIELDS = ("stock", "price_minor", "list_price_minor", "is_published")


def product_page_get(*, slug: str, categories_version: int | None = None) -> Product:
    """The published product for its page: one small query for its live fields (stock, price,
    publication) and its version; the rest (names, description, category, images) from the
    shared cache under that version, loaded on a miss. ``categories_version``: as the request
    already read it (else read here)."""
    # The slug is unique: no ORDER BY (working out the model's ordering cost more than the query).
    read = ("pk", "updated_at", *_LIVE_FIELDS)
    rows = _rows(
        ("product", slug),
        lambda: (
            Product.objects.filter(is_published=True, slug=slug).order_by().values_list(*read)[:1]
        ),
    )
    if not rows:
        raise Http404("No product matches the given query.")
    live = dict(zip(read, rows[0], strict=True))
    if categories_version is None:
        categories_version = cached.categories_version()
    key = cached.keys_of(
        ("catalog:product", live["pk"], live["updated_at"].timestamp(), categories_version)
    )
    item = cached.cached_here(key, lambda: product_get_published(slug=slug))
    for field in _LIVE_FIELDS:
        setattr(item, field, live[field])
    return item


def category_list() -> QuerySet[Category]:
    return Category.objects.all()


# The menu of the latest categories' version this process has seen: a version's menu never
# changes (every change makes a new version), so it is not read from the shared cache again.
_menu_seen: tuple[int, list[cached.MenuCategory]] | None = None


def category_menu(version: int | None = None) -> list[cached.MenuCategory]:
    """Every category in menu order, from the shared cache (one query when the categories
    changed since it was filled). ``version``: the categories' version, as the request already
    read it (else read here)."""
    global _menu_seen
    if version is None:
        version = cached.categories_version()
    seen = _menu_seen
    if seen is not None and seen[0] == version and version:
        return seen[1]

    def load() -> list[cached.MenuCategory]:
        return [
            cached.MenuCategory(
                pk=c.pk,
                name=c.name,
                slug=c.slug,
                url=c.get_absolute_url(),
                description=c.description,
            )
            for c in category_list()
        ]

    menu = cached.cached(f"catalog:categories:{version}", load)
    if version:  # 0: the shared cache is failing, so no version can be trusted
        _menu_seen = (version, menu)
    return menu


def category_get(
    *, slug: str, menu: list[cached.MenuCategory] | None = None
) -> cached.MenuCategory:
    """The category for its page, from the menu (``menu``, or read from the shared cache): every
    category change makes a new menu, so this is never older than the category."""
    for category in category_menu() if menu is None else menu:
        if category.slug == slug:
            return category
    raise Http404("No category matches the given query.")


def product_availability(*, product_id: int) -> Availability:
    """The product's availability as the store holds it now (what a cart would be checked
    against); a product that is not on sale is ``unavailable``."""
    product = get_store().products([product_id]).get(product_id)
    if product is None:
        raise ProductNotFound(product_id=product_id)
    return availability_of(stock=product.stock, is_published=product.is_published)


def ledger_mismatches() -> list[int]:
    """Products whose stock is not the sum of their ledger rows (there should be none: both
    change in one transaction). Read by the store reconciliation, which reports them."""
    return list(
        Product.objects.annotate(ledger=Coalesce(Sum("stock_movements__delta"), 0))
        .exclude(stock=F("ledger"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
