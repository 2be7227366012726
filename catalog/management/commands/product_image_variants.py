"""Draw the sized WebP and JPEG copies for product images that have none yet (images saved
before variants existed, or whose file was replaced outside Django). New images get theirs
when they are saved; this is for the rest, and safe to run again (``make run`` does)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import F

from catalog.models import ProductImage
from catalog.services import product_image_variants_make


class Command(BaseCommand):
    help = "Draw the WebP/JPEG size variants of product images that lack them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--redraw", action="store_true", help="Draw every image's variants again."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        images = ProductImage.objects.exclude(image="")
        if options["redraw"]:
            images.update(variants_of="")
        drawn = 0
        missing = images.exclude(variants_of=F("image")).order_by("pk").values_list("pk", flat=True)
        for image_id in missing.iterator():
            drawn += product_image_variants_make(image_id=image_id)
        self.stdout.write(f"Product image variants drawn for {drawn} image(s).")
