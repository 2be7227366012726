"""The catalogue in the shared cache (catalog/cached.py): an edit, a sale or a price change shows
at once on the product, listing and home pages, and warm pages cost a fixed number of queries."""

from __future__ import annotations

import re

import pytest
from django.core.cache import caches
from django.test import Client

from catalog import cached
from catalog.models import Category, Product, ProductImage
from catalog.services import stock_adjust
from tests.catalog.test_admin_stock import _form

pytestmark = pytest.mark.django_db

TAKA = 100


def _pages(product: Product) -> dict[str, str]:
    return {
        "product": product.get_absolute_url(),
        "category": product.category.get_absolute_url(),
        "home": "/",
    }


def _read(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _card(body: str, product: Product) -> str:
    """The listing card of ``product`` in a page."""
    match = re.search(
        rf'<article class="product-card">\s*<a href="{re.escape(product.get_absolute_url())}".*?</article>',
        body,
        re.S,
    )
    assert match, f"no card for {product.slug}"
    return match.group(0)


def test_stock_and_price_changes_show_at_once_on_every_page(client, make_product):
    product = make_product(stock=10, price_minor=1250 * TAKA, name="Steel kettle")
    pages = _pages(product)
    for url in pages.values():  # every page seen once: the cache holds the catalogue now
        assert "৳ 1,250" in _read(client, url)

    stock_adjust(product_id=product.pk, delta=-8, reason="correction")
    # Not through a save: updated_at stays, so only the live read can show the new price.
    Product.objects.filter(pk=product.pk).update(price_minor=999 * TAKA)

    product_page = _read(client, pages["product"])
    assert "৳ 999" in product_page and "৳ 1,250" not in product_page
    assert "Only 2 left" in product_page
    for name in ("category", "home"):
        card = _card(_read(client, pages[name]), product)
        assert "৳ 999" in card and "৳ 1,250" not in card, name
        assert "Only 2 left" in card, name

    stock_adjust(product_id=product.pk, delta=-2, reason="correction")
    product_page = _read(client, pages["product"])
    assert re.search(r"data-add-to-cart\s+disabled", product_page)
    assert re.search(r"data-buy-now\s+disabled", product_page)
    for name in ("category", "home"):
        assert "Out of stock" in _card(_read(client, pages[name]), product), name


def test_withdrawn_product_is_gone_at_once(client, make_product):
    product = make_product(name="Withdrawn kettle")
    _read(client, product.get_absolute_url())
    Product.objects.filter(pk=product.pk).update(is_published=False)
    assert client.get(product.get_absolute_url()).status_code == 404
    assert "Withdrawn kettle" not in _read(client, "/")


def test_an_admin_edit_shows_at_once(client, make_user, make_product):
    product = make_product(name="Old name", description="Old words")
    shopper = Client()
    for url in _pages(product).values():
        assert "Old name" in _read(shopper, url)

    client.force_login(make_user("boss@example.com", is_staff=True, is_superuser=True))
    edit = _form(product, name="New name", description="New words", price="1500")
    response = client.post(f"/admin/catalog/product/{product.pk}/change/", edit)
    assert response.status_code == 302, response.content.decode()[:2000]

    for name, url in _pages(product).items():
        body = _read(shopper, url)
        assert "New name" in body and "Old name" not in body, name
        assert "৳ 1,500" in body, name
    assert "New words" in _read(shopper, product.get_absolute_url())


def test_a_new_image_shows_at_once(client, make_product):
    product = make_product()
    _read(client, product.get_absolute_url())
    _read(client, "/")
    ProductImage.objects.create(product=product, image="products/new-look.jpg", alt_text="Lid")
    assert "products/new-look.jpg" in _read(client, product.get_absolute_url())
    assert "products/new-look.jpg" in _card(_read(client, "/"), product)


def test_a_renamed_category_shows_at_once(client, make_product, django_capture_on_commit_callbacks):
    product = make_product()
    category = product.category
    for url in _pages(product).values():
        assert category.name in _read(client, url)
    with django_capture_on_commit_callbacks(execute=True):
        category.name = "Kitchen and dining"
        category.save()
    for name, url in _pages(product).items():
        assert "Kitchen and dining" in _read(client, url), name


@pytest.fixture
def redis_sessions(settings, redis_url):
    """The shared cache and the sessions in Redis, as in production with REDIS_URL."""
    redis = {"BACKEND": "haat.cache.RedisCache", "LOCATION": redis_url, "KEY_PREFIX": "haat"}
    settings.CACHES = {"default": redis, "catalog": dict(redis, KEY_PREFIX="haat-catalog")}
    settings.SESSION_ENGINE = "haat.sessions"
    yield
    caches.close_all()


def test_with_sessions_in_redis_the_categories_version_comes_with_the_session(
    redis_sessions, shopper_client, make_product, django_capture_on_commit_callbacks, monkeypatch
):
    """A signed-in page reads the categories' version in its session's round trip, not in one
    of its own; a renamed category still shows at once."""
    product = make_product()
    category = product.category
    alone = []

    class Spy:  # the shared cache, noting the keys read alone
        def __getattr__(self, name):
            return getattr(caches["default"], name)

        def get(self, key, *args, **kwargs):
            alone.append(key)
            return caches["default"].get(key, *args, **kwargs)

    for url in _pages(product).values():
        assert category.name in _read(shopper_client, url)
    monkeypatch.setattr(cached, "cache", Spy())
    for url in _pages(product).values():
        assert category.name in _read(shopper_client, url)
    assert cached._CATEGORIES_VERSION not in alone
    with django_capture_on_commit_callbacks(execute=True):
        category.name = "Kitchen and dining"
        category.save()
    for name, url in _pages(product).items():
        assert "Kitchen and dining" in _read(shopper_client, url), name
    assert cached._CATEGORIES_VERSION not in alone


@pytest.mark.parametrize("images", [0, 6])
def test_warm_pages_cost_a_fixed_number_of_queries(
    shopper_client, make_product, django_assert_num_queries, images
):
    products = [make_product() for _ in range(3)]
    for product in products:
        for n in range(images):
            ProductImage.objects.create(product=product, image=f"products/{n}.jpg", position=n)
    shopper_client.post(
        "/api/cart/lines", {"product_id": products[0].pk, "quantity": 1}, "application/json"
    )
    pages = _pages(products[0])
    for url in pages.values():
        _read(shopper_client, url)
    # Session and user (2), the categories' version for the menu (1: the database cache of the
    # tests; Redis in production), cart and wishlist (1, together), then each page's own reads:
    # the product's live fields (1: its data is keyed by the same version, read once); a
    # listing's products with their total (1: the cards and so their images come from the
    # cache); a category page's category comes with the menu.
    expected = {"product": 5, "category": 5, "home": 5}
    for name, url in pages.items():
        with django_assert_num_queries(expected[name]):
            _read(shopper_client, url)


def test_pages_are_served_when_the_cache_fails(client, make_product, monkeypatch):
    product = make_product(name="Sturdy kettle")

    class Broken:
        def __getattr__(self, name: str):
            raise ConnectionError("cache down")

    monkeypatch.setattr(cached, "_store", Broken)
    for url in _pages(product).values():
        assert "Sturdy kettle" in _read(client, url)


def test_category_pages_follow_category_changes_at_once(
    client, make_product, django_capture_on_commit_callbacks
):
    """A category's page comes from the cached menu: a new category, a new description and a
    deleted category show at once."""
    product = make_product()
    _read(client, product.category.get_absolute_url())
    assert client.get("/c/garden/").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        garden = Category.objects.create(name="Garden", slug="garden", description="Hoses")
    assert "Hoses" in _read(client, "/c/garden/")
    with django_capture_on_commit_callbacks(execute=True):
        garden.description = "Hoses and rakes"
        garden.save()
    assert "Hoses and rakes" in _read(client, "/c/garden/")
    with django_capture_on_commit_callbacks(execute=True):
        garden.delete()
    assert client.get("/c/garden/").status_code == 404


def test_a_product_page_reads_the_shared_cache_once_per_process(client, make_product, monkeypatch):
    """A product's cached data is kept in the process under the same versioned key: a warm page
    neither asks the shared cache again nor misses a change (its key changes with it)."""
    product = make_product(name="Clay pot", stock=5)
    store = cached._store()
    reads: list[str] = []

    class Counting:
        def get(self, key: str) -> object:
            reads.append(key)
            return store.get(key)

        def __getattr__(self, name: str) -> object:
            return getattr(store, name)

    monkeypatch.setattr(cached, "_store", Counting)
    _read(client, product.get_absolute_url())
    assert "Only 5 left" in _read(client, product.get_absolute_url())
    assert len([key for key in reads if key.startswith("catalog:product:")]) == 1
    stock_adjust(product_id=product.pk, delta=-4, reason="correction")
    assert "Only 1 left" in _read(client, product.get_absolute_url())
    product.name = "Clay pot, large"
    product.save()
    assert "Clay pot, large" in _read(client, product.get_absolute_url())


def test_a_warm_listing_asks_the_shared_cache_for_no_card(client, make_product, monkeypatch):
    """Cards this process drew or read lately are kept in it by their key (which holds all they
    show that can change): a warm listing asks the shared cache only for a changed card."""
    products = [make_product(price_minor=(100 + n) * TAKA) for n in range(3)]
    store = cached._store()
    asked: list[str] = []

    class Counting:
        def get_many(self, keys: list[str]) -> dict[str, object]:
            asked.extend(key for key in keys if key.startswith("catalog:card:"))
            return store.get_many(keys)

        def __getattr__(self, name: str) -> object:
            return getattr(store, name)

    monkeypatch.setattr(cached, "_store", Counting)
    _read(client, "/")
    asked.clear()
    _read(client, "/")
    assert asked == []
    Product.objects.filter(pk=products[1].pk).update(price_minor=55 * TAKA)
    card = _card(_read(client, "/"), products[1])
    assert "৳ 55" in card
    assert [key.split(":")[2] for key in asked] == [str(products[1].pk)]


@pytest.mark.postgres  # other databases are read through the ORM (catalog.selectors._rows)
def test_page_statements_are_worked_out_once_per_process(client, make_product, monkeypatch):
    """A listing's SQL is kept by listing and page, a product page's by slug (their rows are read
    on every page): warm category and product pages have the ORM compile no product query."""
    from django.db.models.sql.compiler import SQLCompiler

    product = make_product(stock=4)
    url = product.category.get_absolute_url() + "?sort=price_asc"
    _read(client, url)
    compiled: list[str] = []
    as_sql = SQLCompiler.as_sql

    def counting(self, *args, **kwargs):
        if self.query.model is Product:
            compiled.append("product")
        return as_sql(self, *args, **kwargs)

    _read(client, product.get_absolute_url())
    monkeypatch.setattr(SQLCompiler, "as_sql", counting)
    assert "Only 4 left" in _card(_read(client, url), product)
    assert "Only 4 left" in _read(client, product.get_absolute_url())
    assert compiled == []
    stock_adjust(product_id=product.pk, delta=-3, reason="correction")
    assert "Only 1 left" in _card(_read(client, url), product)  # the rows are read each time
    assert "Only 1 left" in _read(client, product.get_absolute_url())
