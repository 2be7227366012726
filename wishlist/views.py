"""The wishlist page and its plain-form actions."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts import resume
from catalog.models import Product
from haat.errors import DomainError
from haat.forms import form_product_id
from haat.http import safe_next_url, signed_in_user_id
from haat.limits import rate_limit
from wishlist import selectors, services


def _act(
    request: HttpRequest, action: Callable[[], object], *, done: str, then: str
) -> HttpResponse:
    """A plain form's action: run it, say it was done or why it was refused, go to ``then``."""
    try:
        action()
    except DomainError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, done)
    return redirect(then)


@require_GET
@login_required
def wishlist_page(request: HttpRequest) -> HttpResponse:
    wishlist = selectors.wishlist_get(user_id=signed_in_user_id(request))
    return render(request, "wishlist/wishlist.html", {"wishlist": wishlist})


@require_POST
@rate_limit("cart_write")
def wishlist_toggle(request: HttpRequest) -> HttpResponse:
    next_url = safe_next_url(request, reverse("wishlist:page"))
    product_id = form_product_id(request.POST.get("product_id"))
    if not request.user.is_authenticated:
        name = Product.objects.filter(pk=product_id).values_list("name", flat=True).first() or ""
        resume.remember(request, "wishlist_add", product_id=product_id, name=name)
        return redirect_to_login(next_url, reverse("accounts:login"))
    try:
        added, _count = services.wishlist_toggle(
            user_id=signed_in_user_id(request), product_id=product_id
        )
    except DomainError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(
            request, _("Saved to your wishlist.") if added else _("Removed from your wishlist.")
        )
    return redirect(next_url)


@require_POST
@login_required
@rate_limit("cart_write")
def wishlist_remove(request: HttpRequest, product_id: int) -> HttpResponse:
    return _act(
        request,
        lambda: services.wishlist_remove(user_id=signed_in_user_id(request), product_id=product_id),
        done=_("Removed from your wishlist."),
        then="wishlist:page",
    )


@require_POST
@login_required
@rate_limit("cart_write")
def wishlist_move_to_cart(request: HttpRequest, product_id: int) -> HttpResponse:
    return _act(
        request,
        lambda: services.wishlist_move_to_cart(
            user_id=signed_in_user_id(request), product_id=product_id
        ),
        done=_("Moved to your cart."),
        then="wishlist:page",
    )


@require_POST
@login_required
@rate_limit("cart_write")
def wishlist_save_from_cart(request: HttpRequest, product_id: int) -> HttpResponse:
    """Save for later, from a cart line."""
    return _act(
        request,
        lambda: services.wishlist_save_from_cart(
            user_id=signed_in_user_id(request), product_id=product_id
        ),
        done=_("Moved to your wishlist."),
        then="cart:page",
    )


@require_POST
@login_required
@rate_limit("cart_write")
def wishlist_alert(request: HttpRequest, product_id: int) -> HttpResponse:
    wanted = request.POST.get("wanted") == "on"
    try:
        services.wishlist_alert_set(
            user_id=signed_in_user_id(request), product_id=product_id, wanted=wanted
        )
    except DomainError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(
            request,
            _("We will e-mail you when it is back in stock.")
            if wanted
            else _("You will not be told when it is back."),
        )
    return redirect("wishlist:page")
