"""The demo catalogue: big enough, varied, and safe to load twice."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from accounts.models import User
from catalog.models import Category, Product, ProductImage, StockMovement
from tests.manage_process import PRODUCTION_ENV, manage

pytestmark = pytest.mark.django_db


def test_full_demo_catalogue_has_the_promised_variety():
    call_command("seed_demo", "--images-per-product", "0", "--no-progress", "--no-accounts")
    assert Product.objects.count() >= 300
    assert Category.objects.count() >= 8
    published = Product.objects.filter(is_published=True)
    assert published.filter(stock=0).exists()
    assert published.filter(stock__gte=1, stock__lte=3).exists()
    assert Product.objects.filter(is_published=False).exists()
    assert Product.objects.filter(list_price_minor__isnull=False).exists()
    # Every unit of demo stock is explained by the ledger.
    ledger = StockMovement.objects.aggregate(total=Sum("delta"))["total"]
    assert ledger == Product.objects.aggregate(total=Sum("stock"))["total"]


def test_seeding_twice_changes_nothing_and_keeps_sold_stock(capsys):
    call_command("seed_demo", "--products", "12", "--images-per-product", "1", "--no-progress")
    product = Product.objects.filter(stock__gt=0).first()
    assert product is not None
    Product.objects.filter(pk=product.pk).update(stock=0)  # as if sold out since
    counts = (Product.objects.count(), ProductImage.objects.count(), StockMovement.objects.count())
    call_command("seed_demo", "--products", "12", "--images-per-product", "1", "--no-progress")
    assert counts == (
        Product.objects.count(),
        ProductImage.objects.count(),
        StockMovement.objects.count(),
    )
    product.refresh_from_db()
    assert product.stock == 0
    assert User.objects.filter(email="shopper@haat.test").count() == 1
    out = capsys.readouterr().out
    assert "shopper@haat.test" in out


def test_images_are_real_jpegs():
    call_command(
        "seed_demo",
        "--products",
        "2",
        "--images-per-product",
        "2",
        "--no-progress",
        "--no-accounts",
    )
    image = ProductImage.objects.first()
    assert image is not None
    with image.image.open("rb") as handle:
        assert handle.read(3) == b"\xff\xd8\xff"
    assert ProductImage.objects.count() == 4


def test_refuses_in_production_and_changes_nothing(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="refuses to run with HAAT_ENV=production") as refused:
        call_command("seed_demo", "--products", "2", "--no-progress")
    assert refused.value.returncode == 3
    assert (User.objects.count(), Product.objects.count(), Category.objects.count()) == (0, 0, 0)


def test_refusal_in_production_is_a_clear_exit(tmp_path):
    result = manage(
        "seed_demo",
        "--no-progress",
        **PRODUCTION_ENV,
        HAAT_DATA_DIR=str(tmp_path),
        drop_prefix="DATABASE_URL",
    )
    assert result.returncode == 3
    assert "seed_demo refuses to run with HAAT_ENV=production" in result.stderr
    assert "Traceback" not in result.stderr
