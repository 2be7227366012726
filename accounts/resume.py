"""Sign in, then carry on: an anonymous shopper's Add to Cart or heart is remembered in the
session and carried out right after sign-in (or sign-up), with a message saying what happened."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest
from django.utils.translation import gettext as _

from catalog.money import format_number
from haat.errors import DomainError

SESSION_KEY = "haat_pending_action"
ACTIONS = {"cart_add", "wishlist_add"}


def remember(request: HttpRequest, kind: str, **params: Any) -> None:
    """Keep one pending action (the latest click wins); it survives the login's session cycle."""
    if kind not in ACTIONS:
        raise ValueError(kind)
    request.session[SESSION_KEY] = {"kind": kind, **params}


def resume_after_sign_in(
    sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any
) -> None:
    """``user_logged_in`` receiver: carry out the pending action once, then forget it."""
    if request is None or not hasattr(request, "session"):
        return
    pending = request.session.pop(SESSION_KEY, None)
    if not isinstance(pending, dict):
        return
    from cart.services import cart_add_line
    from wishlist.services import wishlist_add

    try:
        product_id = int(pending.get("product_id", 0))
        if pending.get("kind") == "cart_add":
            quantity = int(pending.get("quantity", 1))
            contents = cart_add_line(user_id=user.pk, product_id=product_id, quantity=quantity)
            name = pending.get("name") or _("The item")
            messages.success(
                request,
                _("Added {quantity} × {name} to your cart ({count} in cart).").format(
                    quantity=format_number(quantity), name=name, count=format_number(contents.count)
                ),
            )
        elif pending.get("kind") == "wishlist_add":
            wishlist_add(user_id=user.pk, product_id=product_id)
            messages.success(
                request,
                _("Saved {name} to your wishlist.").format(
                    name=pending.get("name") or _("the item")
                ),
            )
    except DomainError as refusal:
        messages.error(
            request, _("We couldn't finish that: {reason}").format(reason=refusal.message)
        )
    except (TypeError, ValueError):
        return
