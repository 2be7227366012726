"""State changes for the catalogue. ``stock_adjust`` is the only way stock changes."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from catalog.models import StockMovement
from haat.errors import InvalidQuantity
from haat.store import get_store


def stock_adjust(
    *,
    product_id: int,
    delta: int,
    reason: str,
    actor: User | None = None,
    note: str = "",
    reference: str = "",
) -> StockMovement:
    """Change a product's stock by ``delta`` and record it in the ledger, atomically.

    A decrease is one conditional UPDATE (``stock = stock - n WHERE stock >= n``), so two
    concurrent sales can never take the same unit; when it matches no row nothing changed and
    ``InsufficientStock`` says how many units there are.
    """
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        raise InvalidQuantity("A stock change must be a non-zero whole number.", delta=delta)
    if reason not in StockMovement.Reason.values:
        raise ValueError(f"Unknown stock movement reason {reason!r}")
    with transaction.atomic():
        name, resulting = get_store().stock_adjust(product_id, delta)
        return StockMovement.objects.create(
            product_id=product_id,
            product_name=name,
            reason=reason,
            delta=delta,
            resulting_stock=resulting,
            actor=actor,
            note=note[:255],
            reference=reference[:64],
        )
