"""Load the demo catalogue into the database and the Sanity dataset in one go."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Create the demo catalogue and export it to Sanity (STORE_BACKEND=sanity settings)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--products", type=int, default=300)

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("seed_demo", "--products", str(options["products"]))
        call_command("sanity_export_catalog")
