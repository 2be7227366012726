"""Copy the database catalogue into the Sanity dataset (STORE_BACKEND=sanity settings).

Products new to Sanity get their stock from the database; products already there keep Sanity's
stock (it is the truth there) unless --overwrite-stock is given."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from catalog.models import Product
from catalog.signals import product_state
from haat.store.sanity import SanityStore, product_doc_id


class Command(BaseCommand):
    help = "Export the database catalogue (products and their stock) to Sanity."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--overwrite-stock", action="store_true")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if not (settings.SANITY_PROJECT_ID and settings.SANITY_TOKEN):
            raise CommandError("Set SANITY_PROJECT_ID, SANITY_DATASET and SANITY_TOKEN first.")
        store = SanityStore()
        products = Product.objects.prefetch_related("images").order_by("pk")
        for product in tqdm(
            products, desc="Exporting to Sanity", unit="product", disable=options["no_progress"]
        ):
            store.product_sync(product_state(product))
            if options["overwrite_stock"]:
                store.client.mutate(
                    [{"patch": {"id": product_doc_id(product.pk), "set": {"stock": product.stock}}}]
                )
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported {products.count()} products to dataset {settings.SANITY_DATASET} "
                f"({store.client.requests} API requests)."
            )
        )
