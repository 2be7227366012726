"""Home, category, search and product pages: what they show and how many queries they cost."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import Category, ProductImage

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


def test_home_lists_published_products_only(client, make_product):
    visible = make_product(name="Visible Kettle")
    hidden = make_product(name="Hidden Kettle", is_published=False)
    response = client.get("/")
    assert response.status_code == 200
    assert visible.name in html(response)
    assert hidden.name not in html(response)


def test_header_has_search_categories_badges_and_account_links(client, category):
    body = html(client.get("/"))
    assert 'role="search"' in body
    assert category.name in body
    assert 'data-badge="cart"' in body and 'data-badge="wishlist"' in body
    assert "Sign in" in body and "Sign up" in body


def test_category_page_shows_only_its_products(client, make_product):
    other = Category.objects.create(name="Garden", slug="garden")
    mine = make_product(name="Tea Kettle")
    theirs = make_product(name="Garden Hose", category=other)
    body = html(client.get(reverse("catalog:category", args=[mine.category.slug])))
    assert mine.name in body
    assert theirs.name not in body


def test_unknown_category_is_404(client, db):
    assert client.get("/c/nothing-here/").status_code == 404


def test_search_matches_words_and_paginates(client, make_product, settings):
    settings.PRODUCTS_PER_PAGE = 5
    for n in range(12):
        make_product(name=f"Blue Mug {n:02d}")
    make_product(name="Red Chair")
    first = client.get("/search/", {"q": "blue mug"})
    assert first.context["page"].paginator.count == 12
    assert len(first.context["page"].object_list) == 5
    assert 'rel="next"' in html(first)
    third = client.get("/search/", {"q": "blue mug", "page": 3})
    assert len(third.context["page"].object_list) == 2
    assert "Red Chair" not in html(first)


def test_search_with_bad_page_number_falls_back(client, make_product):
    make_product(name="Blue Mug")
    assert client.get("/search/", {"q": "mug", "page": "abc"}).status_code == 200
    assert client.get("/search/", {"q": "mug", "page": "999"}).status_code == 200


def test_search_without_query_shows_prompt(client, db):
    response = client.get("/search/")
    assert response.status_code == 200
    assert "Type what you are looking for" in html(response)


def test_search_does_not_show_unpublished(client, make_product):
    make_product(name="Secret Lamp", is_published=False)
    assert client.get("/search/", {"q": "secret"}).context["page"].paginator.count == 0


def test_product_page_in_stock(client, make_product):
    product = make_product(stock=12, price_minor=125000, list_price_minor=150000)
    body = html(client.get(product.get_absolute_url()))
    assert "৳ 1,250" in body
    assert "৳ 1,500" in body and "-17%" in body
    assert "In stock" in body
    assert 'max="12"' in body
    assert re.search(r"data-add-to-cart\s*>", body), "Add to Cart must be enabled"
    assert re.search(r"data-buy-now\s*>", body), "Buy Now must be enabled"
    assert "data-wishlist-toggle" in body


def test_product_page_low_stock(client, make_product):
    product = make_product(stock=2)
    body = html(client.get(product.get_absolute_url()))
    assert "Only 2 left" in body
    assert 'max="2"' in body


def test_product_page_out_of_stock_disables_buying(client, make_product):
    product = make_product(stock=0)
    body = html(client.get(product.get_absolute_url()))
    assert "Out of stock" in body
    assert re.search(r"data-add-to-cart\s+disabled", body)
    assert re.search(r"data-buy-now\s+disabled", body)


def test_unpublished_product_is_404(client, make_product):
    product = make_product(is_published=False)
    assert client.get(product.get_absolute_url()).status_code == 404


def _queries(client, url: str) -> int:
    """Queries of a page seen before: the first sight fills the catalogue's cache (and, once,
    the categories' version counter), which later sights do not repeat."""
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def _add_products(make_product, count: int, category=None) -> None:
    for _ in range(count):
        product = make_product(**({"category": category} if category else {}))
        ProductImage.objects.create(product=product, image=f"products/{product.slug}.jpg")
        ProductImage.objects.create(
            product=product, image=f"products/{product.slug}-2.jpg", position=1
        )


@pytest.mark.parametrize("page", ["home", "category", "search"])
def test_listing_pages_cost_constant_queries(client, make_product, category, page):
    urls = {
        "home": "/",
        "category": reverse("catalog:category", args=[category.slug]),
        "search": "/search/?q=product",
    }
    _add_products(make_product, 2, category)
    few = _queries(client, urls[page])
    _add_products(make_product, 25, category)
    many = _queries(client, urls[page])
    assert few == many


def test_product_page_costs_constant_queries(client, make_product):
    small = make_product()
    ProductImage.objects.create(product=small, image="products/a.jpg")
    big = make_product()
    for n in range(8):
        ProductImage.objects.create(product=big, image=f"products/b{n}.jpg", position=n)
    assert _queries(client, small.get_absolute_url()) == _queries(client, big.get_absolute_url())


def test_pages_render_for_signed_in_shopper(shopper_client, make_product):
    product = make_product()
    body = html(shopper_client.get(product.get_absolute_url()))
    assert "Sign out" in body


@pytest.mark.parametrize(
    ("page", "shown", "number"),
    [("1", 5, 1), ("3", 2, 3), ("4", 2, 3), ("99999999999999999999", 2, 3), ("0", 5, 1)],
)
def test_listing_pages_count_the_whole_listing_and_clamp_the_number(
    client, make_product, category, settings, page, shown, number
):
    """A page's rows carry the listing's total; a number past the end shows the last page."""
    settings.PRODUCTS_PER_PAGE = 5
    for _ in range(12):
        make_product()
    make_product(is_published=False)
    response = client.get(reverse("catalog:category", args=[category.slug]), {"page": page})
    listing = response.context["page"]
    assert listing.paginator.count == 12
    assert listing.paginator.num_pages == 3
    assert (listing.number, len(listing.object_list)) == (number, shown)
    assert "12 items" in html(response)


def test_a_card_missing_from_the_cache_is_drawn_with_its_images(client, make_product):
    """Warm listings read no images (the cards are cached); a card not in the cache yet reads
    them before it is drawn."""
    seen = make_product()
    assert client.get("/").status_code == 200  # ``seen``'s card is cached now
    new = make_product()
    ProductImage.objects.create(product=new, image="products/fresh-look.jpg", alt_text="Lid")
    body = html(client.get("/"))
    assert "products/fresh-look.jpg" in body
    assert seen.get_absolute_url() in body
