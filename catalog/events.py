"""Signals the catalogue sends for apps above it to act on (they connect in their AppConfig).

Kept apart from catalog/signals.py, whose receivers call the catalogue services: the services
send these, so defining them there would make the two modules import each other."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after the commit of a stock change through the ledger that took a product from no stock
# to some, with ``product_id``: the wishlist's back-in-stock alerts listen.
stock_back = Signal()
