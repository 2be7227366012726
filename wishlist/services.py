"""Changing a wishlist: toggle (add or remove), remove, moving items to and from the cart, and
back-in-stock alerts.

Moves touch two stores' worth of state (the cart and the wishlist), each changed atomically on
its own: the item is first put where it goes and only then taken from where it was, so a
refusal or a failure in between leaves it in both places, never in neither.

Alerts: a shopper asks to be told when an out-of-stock item returns (``wishlist_alert_set``).
When stock goes from none to some through the ledger, ``catalog.events.stock_back`` fires
after commit and the restock job is queued (``back_in_stock_alerts_send``: on the worker when
one runs, else in-process; the periodic sweep catches up on any left over). Each alert is
claimed by one atomic wishlist update (wanted → sent) before its mail goes out, so running the
job twice, or on two workers at once, sends one mail; a mail that fails gives the claim back
and is tried again by the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import DatabaseError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from cart import services as cart_services
from catalog.availability import availability_of
from haat.background import enqueue
from haat.errors import (
    AlertNotNeeded,
    NotInCart,
    NotInWishlist,
    ProductNotFound,
    ProductUnavailable,
)
from haat.mail import mail_address
from haat.store import CartContents, ProductState, WishlistContents, WishlistEntry, get_store

log = logging.getLogger(__name__)


def _new_entry(products: Mapping[int, ProductState], product_id: int) -> WishlistEntry:
    """A new item for a product on sale (out of stock is fine: that is what wishlists are for),
    remembering its price now to show a drop later."""
    product = products.get(product_id)
    if product is None:
        raise ProductNotFound(product_id=product_id)
    if not product.is_published:
        raise ProductUnavailable(product_id=product_id)
    return WishlistEntry(product.id, product.name, product.slug, product.price_minor)


def wishlist_toggle(*, user_id: int, product_id: int) -> tuple[bool, WishlistContents]:
    """Add the product, or remove it if it is already there. Returns (now in wishlist, contents).

    Removing always works, even for products since unpublished or deleted."""
    added = False

    def change(
        items: list[WishlistEntry], products: Mapping[int, ProductState]
    ) -> list[WishlistEntry]:
        nonlocal added
        kept = [item for item in items if item.product_id != product_id]
        if len(kept) != len(items):
            added = False
            return kept
        entry = _new_entry(products, product_id)
        added = True
        return [entry, *items]

    contents = get_store().wishlist_update(user_id, [product_id], change)
    return added, contents


def wishlist_add(*, user_id: int, product_id: int) -> WishlistContents:
    """Make sure the product is in the wishlist (used when resuming a heart click after sign-in,
    where a toggle could remove what the shopper meant to add, and by Save for later)."""

    def change(
        items: list[WishlistEntry], products: Mapping[int, ProductState]
    ) -> list[WishlistEntry]:
        if any(item.product_id == product_id for item in items):
            return items
        return [_new_entry(products, product_id), *items]

    return get_store().wishlist_update(user_id, [product_id], change)


def wishlist_remove(*, user_id: int, product_id: int) -> WishlistContents:
    def change(
        items: list[WishlistEntry], products: Mapping[int, ProductState]
    ) -> list[WishlistEntry]:
        kept = [item for item in items if item.product_id != product_id]
        if len(kept) == len(items):
            raise NotInWishlist(product_id=product_id)
        return kept

    return get_store().wishlist_update(user_id, [], change)


# --- moving between the cart and the wishlist ----------------------------------------------
def wishlist_move_to_cart(
    *, user_id: int, product_id: int
) -> tuple[CartContents, WishlistContents]:
    """Put one unit in the cart (none more if the cart already holds every unit there is) and
    take the item off the wishlist. Out of stock or off sale: refused, nothing changes."""
    store = get_store()
    if product_id not in store.wishlist_get(user_id).product_ids:
        raise NotInWishlist(product_id=product_id)
    cart = cart_services.cart_add_one_unless_full(user_id=user_id, product_id=product_id)
    try:
        wishlist = wishlist_remove(user_id=user_id, product_id=product_id)
    except NotInWishlist:  # removed meanwhile (another tab): where the shopper wanted it
        wishlist = store.wishlist_get(user_id)
    return cart, wishlist


def wishlist_save_from_cart(
    *, user_id: int, product_id: int
) -> tuple[CartContents, WishlistContents]:
    """Save for later: put the cart line's product on the wishlist, then remove the line. If
    the wishlist refuses it (no longer on sale), the line stays in the cart."""
    store = get_store()
    if product_id not in store.cart_get(user_id).lines:
        raise NotInCart(product_id=product_id)
    wishlist = wishlist_add(user_id=user_id, product_id=product_id)
    try:
        cart = cart_services.cart_remove_line(user_id=user_id, product_id=product_id)
    except NotInCart:  # removed meanwhile (another tab): where the shopper wanted it
        cart = store.cart_get(user_id)
    return cart, wishlist


# --- back-in-stock alerts ----------------------------------------------------------------
def wishlist_alert_set(*, user_id: int, product_id: int, wanted: bool) -> WishlistContents:
    """Ask (or stop asking) to be told when an out-of-stock item is back. Asking again after an
    alert was sent asks for the next restock; stopping also clears the "back in stock" badge."""

    def change(
        items: list[WishlistEntry], products: Mapping[int, ProductState]
    ) -> list[WishlistEntry]:
        found = [item for item in items if item.product_id == product_id]
        if not found:
            raise NotInWishlist(product_id=product_id)
        if wanted:
            product = products.get(product_id)
            if product is None or not product.is_published:
                raise ProductUnavailable(product_id=product_id)
            if availability_of(stock=product.stock).can_buy:
                raise AlertNotNeeded(product_id=product_id, name=product.name)
        changed = replace(found[0], alert_wanted=wanted, alert_sent=False)
        return [changed if item.product_id == product_id else item for item in items]

    return get_store().wishlist_update(user_id, [product_id], change)


def back_in_stock_alerts_send(*, product_ids: list[int] | None = None) -> dict[str, int]:
    """Tell every shopper waiting for these products (or any) that is in stock now. The job
    queued when stock comes back, and the periodic sweep. Idempotent: each alert is claimed
    before its mail goes out. Returns the outcomes counted."""
    store = get_store()
    waiting = store.wishlist_alerts_wanted(product_ids)
    products = store.products({alert.product_id for alert in waiting})
    outcomes: dict[str, int] = {}
    for alert in waiting:
        product = products.get(alert.product_id)
        if product is None or not _back(product):
            continue
        try:
            outcome = back_in_stock_alert_send(user_id=alert.user_id, product_id=alert.product_id)
        except DatabaseError:
            raise  # the database is away: the task retries the whole run
        except Exception:
            log.exception(
                "Back-in-stock mail to user %s for product %s failed; it stays due",
                alert.user_id,
                alert.product_id,
            )
            outcome = "failed"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def _back(product: ProductState) -> bool:
    return product.is_published and availability_of(stock=product.stock).can_buy


def back_in_stock_alert_send(*, user_id: int, product_id: int) -> str:
    """Send one shopper's alert for one product, unless it was sent already or the product is
    out of stock again. Returns what happened; a failure to send gives the alert back (the next
    run tries again) and is raised."""
    store = get_store()
    claimed: WishlistEntry | None = None

    def claim(
        items: list[WishlistEntry], products: Mapping[int, ProductState]
    ) -> list[WishlistEntry]:
        nonlocal claimed
        claimed = None
        product = products.get(product_id)
        if product is None or not _back(product):
            return items
        result = []
        for item in items:
            if item.product_id == product_id and item.alert_wanted:
                claimed = item
                item = replace(item, alert_wanted=False, alert_sent=True)
            result.append(item)
        return result

    store.wishlist_update(user_id, [product_id], claim)
    if claimed is None:
        return "not due"
    user = get_user_model().objects.filter(pk=user_id).first()
    recipient = mail_address(user) if user is not None else ""
    if not recipient:
        return "skipped"  # the badge on the wishlist still tells them
    product = store.products([product_id]).get(product_id)
    try:
        _alert_message(user, product or claimed, recipient).send()
    except Exception:
        _alert_give_back(user_id=user_id, product_id=product_id)
        raise
    return "sent"


def _alert_give_back(*, user_id: int, product_id: int) -> None:
    def change(
        items: list[WishlistEntry], products: Mapping[int, ProductState]
    ) -> list[WishlistEntry]:
        return [
            replace(item, alert_wanted=True, alert_sent=False)
            if item.product_id == product_id and item.alert_sent
            else item
            for item in items
        ]

    get_store().wishlist_update(user_id, [], change)


def _alert_message(
    user: Any, product: ProductState | WishlistEntry, recipient: str
) -> EmailMultiAlternatives:
    """The mail in the shopper's language (the shop's default if they never chose one)."""
    language = getattr(user, "language", "") or settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "name": product.name,
            "product_url": settings.SITE_URL + reverse("catalog:product", args=[product.slug]),
            "wishlist_url": settings.SITE_URL + reverse("wishlist:page"),
            "shop_name": settings.SHOP_NAME,
        }
        template = "wishlist/email/back_in_stock"
        message = EmailMultiAlternatives(
            subject=f"{settings.SHOP_NAME}: "
            + gettext("{name} is back in stock").format(name=product.name),
            body=render_to_string(f"{template}.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[recipient],
        )
        message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
        return message


def stock_back_received(sender: Any, *, product_id: int, **kwargs: Any) -> None:
    """``catalog.events.stock_back`` (after commit): queue the restock job for the product."""
    enqueue("wishlist.services.back_in_stock_alerts_send", product_ids=[product_id])
