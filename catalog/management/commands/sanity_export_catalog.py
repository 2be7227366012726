"""Copy the database catalogue into the Sanity dataset (STORE_BACKEND=sanity settings).

Every product is marked in the store outbox and delivered at once: Sanity gets the database's
state, stock included (the database is the authority). Run it again at any time: products
already up to date are left alone."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from tqdm import tqdm

from catalog.models import Product
from haat.store import outbox
from haat.store.sanity import SanityStore


class Command(BaseCommand):
    help = "Export the database catalogue (products and their stock) to Sanity."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if not (settings.SANITY_PROJECT_ID and settings.SANITY_TOKEN):
            raise CommandError("Set SANITY_PROJECT_ID, SANITY_DATASET and SANITY_TOKEN first.")
        store = SanityStore()
        product_ids = list(Product.objects.order_by("pk").values_list("pk", flat=True))
        delivered = 0
        with tqdm(
            total=len(product_ids),
            desc="Exporting to Sanity",
            unit="product",
            disable=options["no_progress"],
        ) as progress:
            for start in range(0, len(product_ids), 100):
                page = product_ids[start : start + 100]
                with transaction.atomic():
                    outbox.mark(page)
                delivered += store.deliver_changes(page, ignore_backoff=True)
                progress.update(len(page))
        if delivered < len(product_ids):
            raise CommandError(
                f"Only {delivered} of {len(product_ids)} products reached Sanity; the rest are "
                "retried by the background job (or run this command again)."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported {len(product_ids)} products to dataset {settings.SANITY_DATASET} "
                f"({store.client.requests} API requests)."
            )
        )
