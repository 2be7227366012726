"""Load the demo catalogue and demo accounts. Safe to run again: nothing is duplicated, and
products that already exist (and their stock) are left exactly as they are."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from tqdm import tqdm

from accounts.demo import DEMO_ACCOUNTS
from accounts.models import User
from catalog import demo
from catalog.models import Category, Product, ProductImage, StockMovement
from catalog.services import stock_adjust


class Command(BaseCommand):
    help = "Create the demo catalogue (300 products, 10 categories, generated images) and demo accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--products", type=int, default=300, help="How many products (default 300)."
        )
        parser.add_argument("--images-per-product", type=int, default=2, choices=range(0, 5))
        parser.add_argument(
            "--no-accounts", action="store_true", help="Do not create demo accounts."
        )
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            # The demo accounts' passwords are public (README), and demo products are not for sale.
            raise CommandError(
                "seed_demo refuses to run with HAAT_ENV=production: it creates demo accounts "
                "whose passwords are published and a catalogue of made-up products. Create "
                "staff with manage.py createsuperuser and add real products in /admin/.",
                returncode=3,
            )
        count = options["products"]
        if count < 0:
            self.stderr.write("--products must be zero or more")
            raise SystemExit(2)
        categories = {}
        for position, spec in enumerate(demo.CATEGORIES):
            categories[spec.slug], _ = Category.objects.get_or_create(
                slug=spec.slug, defaults={"name": spec.name, "position": position}
            )
        existing = set(Product.objects.values_list("slug", flat=True))
        created = 0
        items = list(demo.demo_products(count))
        progress = tqdm(
            items, desc="Seeding demo catalogue", unit="product", disable=options["no_progress"]
        )
        for spec in progress:
            if spec.slug in existing:
                continue
            with transaction.atomic():
                product = Product.objects.create(
                    category=categories[spec.category_slug],
                    name=spec.name,
                    slug=spec.slug,
                    description=spec.description,
                    price_minor=spec.price_minor,
                    list_price_minor=spec.list_price_minor,
                    is_published=spec.is_published,
                )
                if spec.stock:
                    stock_adjust(
                        product_id=product.pk,
                        delta=spec.stock,
                        reason=StockMovement.Reason.INITIAL,
                        note="demo catalogue",
                    )
                for variant in range(options["images_per_product"]):
                    content = demo.render_product_image(spec.name, spec.hue, variant)
                    image = ProductImage(
                        product=product,
                        position=variant,
                        alt_text=f"{spec.name}, view {variant + 1}",
                    )
                    image.image.save(
                        f"{spec.slug}-{variant + 1}.jpg", ContentFile(content), save=False
                    )
                    image.save()
            created += 1
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo catalogue ready: {Product.objects.count()} products in "
                f"{Category.objects.count()} categories ({created} new)."
            )
        )
        if not options["no_accounts"]:
            self._ensure_accounts()

    def _ensure_accounts(self) -> None:
        lines = []
        for account in DEMO_ACCOUNTS:
            if not User.objects.filter(email=account.email).exists():
                create = (
                    User.objects.create_superuser if account.is_admin else User.objects.create_user
                )
                create(email=account.email, password=account.password, full_name=account.full_name)
            role = "Shop admin:  " if account.is_admin else "Demo shopper:"
            where = "  (at /admin/)" if account.is_admin else ""
            lines.append(f"  {role} {account.email} / {account.password}{where}")
        self.stdout.write("\n" + "\n".join(lines) + "\n")
