"""Checkout pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from accounts.views import safe_next_url
from checkout.selectors import checkout_preview
from haat.errors import DomainError
from haat.forms import form_product_id, form_product_ids, form_quantity
from haat.http import signed_in_user_id


def _selection(request: HttpRequest) -> dict:
    """The checkout's items from the query: ``?buy_now=<id>&quantity=<n>`` or ``?product_ids=…``."""
    if request.GET.get("buy_now"):
        return {
            "buy_now": (
                form_product_id(request.GET["buy_now"]),
                form_quantity(request.GET.get("quantity", "1")),
            )
        }
    return {"product_ids": form_product_ids(request.GET.getlist("product_ids"))}


@require_POST
def buy_now(request: HttpRequest) -> HttpResponse:
    """Buy Now from a product page: straight to the checkout for just that product and quantity
    (the cart is left alone). Anonymous shoppers sign in first and land on the same checkout."""
    try:
        product_id = form_product_id(request.POST.get("product_id"))
        quantity = form_quantity(request.POST.get("quantity", "1"))
    except DomainError as refusal:
        messages.error(request, refusal.message)
        return redirect(safe_next_url(request, reverse("catalog:home")))
    url = f"{reverse('checkout:review')}?{urlencode({'buy_now': product_id, 'quantity': quantity})}"
    if not request.user.is_authenticated:
        return redirect_to_login(url, reverse("accounts:login"))
    return redirect(url)


@require_GET
@login_required
def review(request: HttpRequest) -> HttpResponse:
    try:
        selection = _selection(request)
        preview = checkout_preview(user_id=signed_in_user_id(request), **selection)
    except DomainError as refusal:
        messages.error(request, refusal.message)
        return redirect("cart:page")
    return render(
        request,
        "checkout/review.html",
        {"preview": preview, "query": request.GET.urlencode()},
    )
