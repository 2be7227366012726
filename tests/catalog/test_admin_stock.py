"""Staff change stock in the admin only through the ledger service."""

from __future__ import annotations

import pytest

from catalog.models import StockMovement

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, make_user):
    admin = make_user("boss@example.com", is_staff=True, is_superuser=True)
    client.force_login(admin)
    client.admin = admin
    return client


def _form(product, **overrides):
    data = {
        "name": product.name,
        "slug": product.slug,
        "category": product.category_id,
        "description": product.description,
        "is_published": "on",
        "price": str(product.price_minor / 100),
        "list_price": "",
        "stock_change": "",
        "stock_reason": "restock",
        "stock_note": "",
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        "stock_movements-TOTAL_FORMS": "0",
        "stock_movements-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_admin_stock_change_goes_through_the_ledger(staff_client, make_product):
    product = make_product(stock=5)
    url = f"/admin/catalog/product/{product.pk}/change/"
    response = staff_client.post(url, _form(product, stock_change="20", stock_note="delivery 42"))
    assert response.status_code == 302, response.content.decode()[:2000]
    product.refresh_from_db()
    assert product.stock == 25
    movement = StockMovement.objects.filter(product=product).first()
    assert movement is not None
    assert (movement.delta, movement.resulting_stock, movement.reason) == (20, 25, "restock")
    assert movement.actor == staff_client.admin


def test_admin_refuses_taking_more_than_in_stock(staff_client, make_product):
    product = make_product(stock=5)
    url = f"/admin/catalog/product/{product.pk}/change/"
    response = staff_client.post(url, _form(product, stock_change="-6", stock_reason="damaged"))
    assert response.status_code == 200
    assert "Only 5 in stock" in response.content.decode()
    product.refresh_from_db()
    assert product.stock == 5


def test_admin_refuses_list_price_below_price(staff_client, make_product):
    product = make_product(stock=1, price_minor=10000)
    url = f"/admin/catalog/product/{product.pk}/change/"
    response = staff_client.post(url, _form(product, list_price="90"))
    assert response.status_code == 200
    assert "must be higher than the price" in response.content.decode()


def test_admin_pages_open(staff_client, make_product):
    product = make_product(stock=3)
    for url in [
        "/admin/",
        "/admin/catalog/product/",
        f"/admin/catalog/product/{product.pk}/change/",
        "/admin/catalog/product/add/",
        "/admin/catalog/category/",
        "/admin/catalog/stockmovement/",
        "/admin/accounts/user/",
        f"/admin/accounts/user/{staff_client.admin.pk}/change/",
        "/admin/accounts/user/add/",
    ]:
        assert staff_client.get(url).status_code == 200, url


def test_ledger_cannot_be_edited_in_admin(staff_client, make_product):
    product = make_product(stock=3)
    movement = StockMovement.objects.get(product=product)
    assert staff_client.get("/admin/catalog/stockmovement/add/").status_code == 403
    assert (
        staff_client.post(f"/admin/catalog/stockmovement/{movement.pk}/delete/").status_code == 403
    )


def test_admin_prices_are_typed_in_taka(staff_client, make_product):
    product = make_product(stock=1, price_minor=10000)
    url = f"/admin/catalog/product/{product.pk}/change/"
    page = staff_client.get(url).content.decode()
    assert 'name="price" value="100' in page
    response = staff_client.post(url, _form(product, price="1250.50", list_price="1500"))
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.price_minor, product.list_price_minor) == (125050, 150000)
