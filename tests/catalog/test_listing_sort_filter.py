"""Category and search listings: sort (best match, newest, price, discount), filters (price
range, in stock only), kept in the URL and across pages, with a constant number of queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Product

pytestmark = pytest.mark.django_db

TAKA = 100  # paisa


def names(response) -> list[str]:
    """Product names in the grid, in the order shown."""
    body = response.content.decode()
    return re.findall(r'class="product-card-name"[^>]*>([^<]+)<', body)


@pytest.fixture
def shelf(make_product, category):
    """Five products with distinct prices, discounts, ages and stock."""
    now = timezone.now()
    made = {}
    for name, price, list_price, stock, age_days in [
        ("Kettle Basic", 900, None, 5, 5),
        ("Kettle Steel", 2500, 5000, 0, 4),  # 50% off, out of stock
        ("Kettle Glass", 1500, 1800, 3, 3),  # 17% off
        ("Teapot Kettle", 4000, 4400, 8, 2),  # 9% off
        ("Steel Flask", 1200, None, 2, 1),
    ]:
        product = make_product(
            name=name,
            price_minor=price * TAKA,
            list_price_minor=list_price and list_price * TAKA,
            stock=stock,
        )
        Product.objects.filter(pk=product.pk).update(created_at=now - timedelta(days=age_days))
        made[name] = product
    return made


def category_url(category, **query) -> str:
    from urllib.parse import urlencode

    return f"{category.get_absolute_url()}?{urlencode(query)}"


def test_default_order_is_newest_first(client, shelf, category):
    shown = names(client.get(category.get_absolute_url()))
    assert shown == ["Steel Flask", "Teapot Kettle", "Kettle Glass", "Kettle Steel", "Kettle Basic"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (
            "price_asc",
            ["Kettle Basic", "Steel Flask", "Kettle Glass", "Kettle Steel", "Teapot Kettle"],
        ),
        (
            "price_desc",
            ["Teapot Kettle", "Kettle Steel", "Kettle Glass", "Steel Flask", "Kettle Basic"],
        ),
        (
            "newest",
            ["Steel Flask", "Teapot Kettle", "Kettle Glass", "Kettle Steel", "Kettle Basic"],
        ),
        # 50%, 17%, 9%, then the undiscounted newest first.
        (
            "discount",
            ["Kettle Steel", "Kettle Glass", "Teapot Kettle", "Steel Flask", "Kettle Basic"],
        ),
    ],
)
def test_category_sorts(client, shelf, category, sort, expected):
    response = client.get(category_url(category, sort=sort))
    assert response.status_code == 200
    assert names(response) == expected
    assert f'<option value="{sort}" selected>' in response.content.decode()


def test_search_best_match_puts_name_matches_first(client, shelf, make_product):
    make_product(name="Cup", description="Pairs with any kettle")  # newest, description only
    shown = names(client.get("/search/?q=kettle"))
    assert shown[-1] == "Cup"
    assert set(shown[:-1]) == {"Teapot Kettle", "Kettle Glass", "Kettle Steel", "Kettle Basic"}
    # Two words: products matching both in their names come before those matching one.
    shown = names(client.get("/search/?q=steel+kettle"))
    assert shown == ["Kettle Steel"]


def test_price_range_and_in_stock_filters(client, shelf, category):
    shown = names(client.get(category_url(category, min_price=1000, max_price=2500)))
    assert shown == ["Steel Flask", "Kettle Glass", "Kettle Steel"]
    shown = names(client.get(category_url(category, min_price=1000, max_price=2500, in_stock="on")))
    assert shown == ["Steel Flask", "Kettle Glass"]
    shown = names(client.get(category_url(category, in_stock="on", sort="price_desc")))
    assert shown == ["Teapot Kettle", "Kettle Glass", "Steel Flask", "Kettle Basic"]


def test_filters_work_on_search_too(client, shelf):
    shown = names(client.get("/search/?q=kettle&sort=price_asc&max_price=2000&in_stock=on"))
    assert shown == ["Kettle Basic", "Kettle Glass"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"min_price": "cheap"}, "Lowest price: Enter a whole number."),
        ({"min_price": "1.5"}, "Lowest price: Enter a whole number."),
        ({"max_price": "-3"}, "Highest price: Ensure this value is greater than or equal to 0."),
        (
            {"min_price": "3000", "max_price": "1000"},
            "The highest price must not be below the lowest.",
        ),
        ({"sort": "random"}, "Sort by: Select a valid choice."),
    ],
)
def test_bad_values_are_said_and_only_they_are_ignored(client, shelf, category, query, message):
    response = client.get(category_url(category, in_stock="on", **query))
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    # The valid filter still applies: the out-of-stock kettle stays hidden.
    assert "Kettle Steel" not in names(response)
    assert "Kettle Basic" in names(response)


def test_bangla_digits_are_read_as_numbers(client, shelf, category):
    shown = names(client.get(category_url(category, max_price="১০০০")))
    assert shown == ["Kettle Basic"]


def test_page_links_keep_sort_and_filters(client, make_product, category, settings):
    settings.PRODUCTS_PER_PAGE = 2
    for price in (100, 200, 300, 400, 500):
        make_product(price_minor=price * TAKA)
    response = client.get(category_url(category, sort="price_asc", min_price=150))
    body = response.content.decode()
    found = re.search(r'href="\?([^"]+)" rel="next"', body)
    assert found, body
    next_link = found.group(1).replace("&amp;", "&")
    assert next_link == "sort=price_asc&min_price=150&page=2"
    assert len(names(response)) == 2
    second = client.get(f"{category.get_absolute_url()}?{next_link}")
    prices = re.findall(r"৳ (\d+)", second.content.decode())
    assert prices[:2] == ["400", "500"]


def test_clear_filters_link_only_when_narrowed(client, shelf, category):
    assert "Clear filters" not in client.get(category_url(category, sort="newest")).content.decode()
    body = client.get(category_url(category, in_stock="on")).content.decode()
    assert "Clear filters" in body


def count_queries(client, url: str) -> int:
    """Queries of a listing seen before (the first sight fills the catalogue's cache)."""
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"sort": "discount"},
        {"sort": "price_desc", "min_price": 100, "max_price": 5000, "in_stock": "on"},
        {"sort": "relevance", "q": "kettle steel"},
    ],
)
def test_query_count_does_not_grow_with_products(client, make_product, category, query):
    path = "/search/" if "q" in query else category.get_absolute_url()
    from urllib.parse import urlencode

    url = f"{path}?{urlencode(query)}"
    for n in range(3):
        make_product(
            name=f"Kettle Steel {n}", price_minor=1000 * TAKA, list_price_minor=1200 * TAKA
        )
    few = count_queries(client, url)
    for n in range(12):
        make_product(name=f"Kettle Steel more {n}", price_minor=1000 * TAKA)
    assert count_queries(client, url) == few


def test_controls_show_what_each_shopper_asked(client, shelf, category):
    """The controls are kept per process once drawn: a shopper's own values and refusals show,
    never those of the shopper before (nor another language's words, nor a search's words)."""
    plain = client.get(category_url(category)).content.decode()
    assert "Enter a whole number." not in plain and "Clear filters" not in plain
    asked = client.get(category_url(category, sort="price_desc", min_price="cheap", in_stock="on"))
    body = asked.content.decode()
    assert "Lowest price: Enter a whole number." in body
    assert re.search(r'<option value="price_desc"\s+selected', body)
    assert re.search(r'name="in_stock"[^>]*checked', body)
    again = client.get(category_url(category)).content.decode()
    assert again.count("Enter a whole number.") == 0 and "Clear filters" not in again
    assert not re.search(r'<option value="price_desc"\s+selected', again)
    searched = client.get("/search/?q=kettle").content.decode()
    assert '<input type="hidden" name="q" value="kettle">' in searched
    client.cookies["haat_language"] = "bn"
    bangla = client.get(category_url(category)).content.decode()
    assert "Sort by" not in bangla
