"""State changes for the catalogue. ``stock_adjust`` is the only way stock changes."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from catalog.models import Product, StockMovement
from haat.errors import InvalidQuantity, ProductNotFound
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
        raise InvalidQuantity(_("A stock change must be a non-zero whole number."), delta=delta)
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


def stock_take(
    *, quantities: dict[int, int], reason: str, reference: str = "", actor: User | None = None
) -> dict[int, int]:
    """Take stock for several products at once, all or nothing, with one ledger row each.

    The store takes rows in ascending product id, so concurrent multi-product takes queue up
    instead of deadlocking. On refusal nothing changed and ``InsufficientStock`` lists every
    short product (``details["lines"]``)."""
    if reason not in StockMovement.Reason.values:
        raise ValueError(f"Unknown stock movement reason {reason!r}")
    for quantity in quantities.values():
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise InvalidQuantity(_("Quantities must be whole numbers of at least 1."))
    store = get_store()
    recorded = store.stock_take_recorded(
        quantities, reason=reason, reference=reference, actor_id=actor.pk if actor else None
    )
    if recorded is not None:
        return recorded  # the store wrote the ledger rows with the stock changes
    # Names first: once the store has taken the units, their rows stay locked until commit,
    # so only the ledger insert may stand between the take and the commit.
    names = dict(Product.objects.filter(pk__in=quantities).values_list("pk", "name"))
    with transaction.atomic():
        resulting = store.stock_take(quantities)
        StockMovement.objects.bulk_create(
            StockMovement(
                product_id=product_id,
                product_name=names.get(product_id, ""),
                reason=reason,
                delta=-quantities[product_id],
                resulting_stock=resulting[product_id],
                actor=actor,
                reference=reference[:64],
            )
            for product_id in sorted(quantities)
        )
        return resulting


def stock_return(
    *, quantities: dict[int, int], reason: str, reference: str = "", actor: User | None = None
) -> None:
    """Put units back (a released reservation, a return), one ledger row each, in id order.
    Products deleted meanwhile are skipped: there is no shelf to return them to."""
    with transaction.atomic():
        for product_id in sorted(quantities):
            try:
                stock_adjust(
                    product_id=product_id,
                    delta=quantities[product_id],
                    reason=reason,
                    actor=actor,
                    reference=reference,
                )
            except ProductNotFound:
                continue
