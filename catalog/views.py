"""Storefront pages. Thin: read through selectors, render one template per page."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Page
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from catalog import selectors
from catalog.availability import availability_of
from catalog.forms import ListingForm, listing_form
from haat.context_processors import (
    request_categories_version,
    request_category_menu,
    request_shopper_state,
)
from haat.forms import form_search_query


def _page(request: HttpRequest, listing: selectors.Listing) -> Page:
    number = request.GET.get("page", "1")
    # Nonsense or numbers below one mean the first page; past the end means the last page.
    # ASCII digits only: "²".isdigit() is true, but int("²") fails.
    if not (number.isascii() and number.isdigit()) or int(number) < 1:
        number = "1"
    return selectors.listing_page(listing, int(number), settings.PRODUCTS_PER_PAGE)


def home(request: HttpRequest) -> HttpResponse:
    page = _page(request, selectors.Listing())
    return render(request, "catalog/home.html", {"page": page})


def _listing_context(request: HttpRequest, form: ListingForm) -> dict[str, object]:
    # Page links keep the shopper's sort and filters (none asked, nearly always: no copy then).
    query = ""
    if request.GET:
        kept = request.GET.copy()
        kept.pop("page", None)
        query = kept.urlencode()
    return {"listing_form": form, "listing_query": query}


def category(request: HttpRequest, slug: str) -> HttpResponse:
    current = selectors.category_get(slug=slug, menu=request_category_menu(request))
    form = listing_form(request.GET)
    listing = selectors.Listing(category=current, options=form.options())
    context = {"category": current, "page": _page(request, listing)}
    return render(request, "catalog/category.html", context | _listing_context(request, form))


def search(request: HttpRequest) -> HttpResponse:
    query = form_search_query(request.GET.get("q", ""))
    form = listing_form(request.GET)
    page = None
    if query:
        page = _page(request, selectors.Listing(query=query, options=form.options()))
    context = {"query": query, "page": page}
    return render(request, "catalog/search.html", context | _listing_context(request, form))


def product(request: HttpRequest, slug: str) -> HttpResponse:
    item = selectors.product_page_get(
        slug=slug, categories_version=request_categories_version(request)
    )
    # The header needs the same state: read it once for both.
    state = request_shopper_state(request) or {"cart": {}, "wishlist": []}
    in_cart = state["cart"].get(str(item.pk), 0)
    in_wishlist = item.pk in state["wishlist"]
    availability = availability_of(stock=item.stock, is_published=item.is_published)
    return render(
        request,
        "catalog/product.html",
        {
            "product": item,
            "availability": availability,
            "in_cart": in_cart,
            "addable": availability.addable(in_cart),
            "in_wishlist": in_wishlist,
        },
    )
