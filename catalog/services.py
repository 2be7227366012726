"""State changes for the catalogue. ``stock_adjust`` is the only way stock changes.

Every change of products in the database tells the store (``products_changed``) inside the same
transaction, so a store keeping a copy elsewhere (Sanity) gets exactly the committed changes,
after commit. Bulk changes go through the functions here, never ``queryset.update`` (which
sends no signal)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from django.db import transaction
from PIL import Image

from catalog.events import stock_back
from catalog.images import variants_render
from catalog.models import Product, ProductImage, StockMovement
from catalog.selectors import ledger_mismatches
from haat.errors import InvalidQuantity, ProductNotFound
from haat.store import get_store

if TYPE_CHECKING:  # accounts sits above catalog: only the type is needed here
    from accounts.models import User

log = logging.getLogger(__name__)


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
        raise InvalidQuantity(message_key="invalid_quantity.stock_change", delta=str(delta)[:20])
    if reason not in StockMovement.Reason.values:
        raise ValueError(f"Unknown stock movement reason {reason!r}")
    with transaction.atomic():
        name, resulting = get_store().stock_adjust(product_id, delta)
        if delta > 0 and resulting - delta <= 0:
            # Back from none: whoever waits for it is told once this commits.
            transaction.on_commit(
                partial(stock_back.send_robust, sender=Product, product_id=product_id)
            )
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
    short product (``details["items"]``)."""
    if reason not in StockMovement.Reason.values:
        raise ValueError(f"Unknown stock movement reason {reason!r}")
    for quantity in quantities.values():
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise InvalidQuantity(message_key="invalid_quantity.stock_take")
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
    if reason not in StockMovement.Reason.values:
        raise ValueError(f"Unknown stock movement reason {reason!r}")
    for quantity in quantities.values():
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise InvalidQuantity(
                message_key="invalid_quantity.stock_change", delta=str(quantity)[:20]
            )
    recorded = get_store().stock_return_recorded(
        quantities, reason=reason, reference=reference, actor_id=actor.pk if actor else None
    )
    if recorded is not None:  # the store wrote the ledger rows with the stock changes
        for product_id, resulting in recorded.items():
            if resulting - quantities[product_id] <= 0:
                # Back from none, as in stock_adjust: whoever waits is told after commit.
                transaction.on_commit(
                    partial(stock_back.send_robust, sender=Product, product_id=product_id)
                )
        return
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


def products_set_published(*, product_ids: Iterable[int], published: bool) -> int:
    """Publish or unpublish products at once (the admin's bulk actions). Returns how many
    changed. The rows are locked in ascending id, like every stock change, so this never
    deadlocks with a checkout."""
    ids = sorted({int(pk) for pk in product_ids})
    with transaction.atomic():
        locked = list(
            Product.objects.select_for_update()
            .filter(pk__in=ids)
            .exclude(is_published=published)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if locked:
            Product.objects.filter(pk__in=locked).update(is_published=published)
            get_store().products_changed(locked)
    return len(locked)


def store_changes_deliver(*, product_ids: list[int] | None = None, retry_now: bool = False) -> int:
    """Deliver committed product changes to the store's copy (these products, or every change
    that is due). ``retry_now`` skips the backoff of earlier failures. Returns how many products
    were delivered. The background job after each change, and the periodic sweep."""
    return get_store().deliver_changes(product_ids, ignore_backoff=retry_now)


def store_reconcile() -> dict[str, int]:
    """Compare the store's copy with the database and repair it; also report products whose
    ledger does not add up to their stock (logged as an error: that needs a person)."""
    report = dict(get_store().reconcile())
    mismatched = ledger_mismatches()
    if mismatched:
        log.error("Stock does not match the ledger for products %s", mismatched[:50])
    report["ledger_mismatches"] = len(mismatched)
    return report


def product_image_variants_make(*, image_id: int) -> bool:
    """Draw the WebP and JPEG copies of a product image at the widths pages use
    (catalog.images) and record them on the row. Runs when an image is saved and from
    ``manage.py product_image_variants`` for images saved before; returns whether it drew any.
    A file Pillow cannot read keeps its original only (pages then show that)."""
    image = ProductImage.objects.filter(pk=image_id).first()
    if image is None or not image.needs_variants:
        return False
    name = str(image.image.name)
    try:
        width, height, variants = variants_render(name)
    except (OSError, ValueError, Image.DecompressionBombError):
        log.warning("Product image %s (%s): no variants, Pillow cannot read it", image_id, name)
        return False
    # update(): the row's other fields stay as saved, and no save signal draws them again.
    ProductImage.objects.filter(pk=image_id, image=name).update(
        width=width,
        height=height,
        variant_widths=[variant.width for variant in variants],
        variants_of=name,
    )
    return True
