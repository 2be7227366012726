"""Cart pages and the plain-form actions behind them (everything works without JavaScript;
with it, the page's script calls the JSON API instead and these only serve the HTML)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import resume
from cart import selectors, services
from catalog.models import Product
from catalog.money import format_number, shop_currency
from haat.context_processors import request_shopper_state
from haat.errors import DomainError
from haat.forms import form_product_id, form_product_ids, form_quantity
from haat.http import FRAGMENT_HEADER, safe_next_url, signed_in_user_id, wanted_fragment
from haat.limits import rate_limit
from orders.selectors import delivery_zone_choose


@require_GET
@login_required
def cart_page(request: HttpRequest) -> HttpResponse:
    user_id = signed_in_user_id(request)
    fragment = wanted_fragment(request, ("cart-body",))
    if fragment is None:  # the whole page: its header's counts from the same read
        contents, wishlist = selectors.cart_and_wishlist_contents(user_id=user_id)
        request_shopper_state(request, cart=contents, wishlist=wishlist)
    else:
        contents = selectors.cart_contents(user_id=user_id)
    cart = selectors.cart_get(user_id=user_id, contents=contents)
    template = f"cart/cart.html#{fragment}" if fragment else "cart/cart.html"
    # An estimate for the zone of the shopper's last order (or the default one); checkout
    # works out the fee charged, for the zone chosen there.
    zone = delivery_zone_choose(user_id=user_id)
    fee = zone.fee_for(cart.subtotal_minor) if zone and cart.subtotal_minor else 0
    estimate = (
        None
        if zone is None
        else selectors.DeliveryEstimate(zone.name, zone.fee_minor, zone.free_from_minor)
    )
    context = {
        "cart": cart,
        "cart_summary": selectors.cart_summary(cart, zone=estimate, delivery_fee_minor=fee),
        "currency": shop_currency(),
    }
    response = render(request, template, context)
    patch_vary_headers(response, [FRAGMENT_HEADER])  # the page and its part share the URL
    return response


@require_POST
@rate_limit("cart_write")
def cart_add(request: HttpRequest) -> HttpResponse:
    """Add to Cart from a product page or the wishlist (no-JavaScript path and sign-in resume)."""
    next_url = safe_next_url(request, reverse("cart:page"))
    product_id = form_product_id(request.POST.get("product_id"))
    quantity = form_quantity(request.POST.get("quantity", "1"))
    if not request.user.is_authenticated:
        name = Product.objects.filter(pk=product_id).values_list("name", flat=True).first() or ""
        resume.remember(request, "cart_add", product_id=product_id, quantity=quantity, name=name)
        return redirect_to_login(next_url, reverse("accounts:login"))
    try:
        contents = services.cart_add_line(
            user_id=signed_in_user_id(request), product_id=product_id, quantity=quantity
        )
    except DomainError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(
            request,
            _("Added {quantity} to your cart ({count} in cart).").format(
                quantity=format_number(quantity), count=format_number(contents.count)
            ),
        )
    return redirect(next_url)


@require_POST
@login_required
@rate_limit("cart_write")
def cart_set_quantity(request: HttpRequest, product_id: int) -> HttpResponse:
    # The - / + buttons send "quantity"; typing a number and pressing Update sends "quantity_typed".
    quantity = form_quantity(request.POST.get("quantity") or request.POST.get("quantity_typed"))
    try:
        services.cart_set_quantity(
            user_id=signed_in_user_id(request), product_id=product_id, quantity=quantity
        )
    except DomainError as refusal:
        messages.error(request, refusal.message)
    return redirect("cart:page")


@require_http_methods(["GET", "POST"])
@login_required
@rate_limit("cart_write")  # counts the POST only
def cart_remove(request: HttpRequest) -> HttpResponse:
    """GET asks for confirmation (the no-JavaScript dialog); POST removes the lines."""
    source = request.POST if request.method == "POST" else request.GET
    product_ids = form_product_ids(source.getlist("product_ids"))
    if not product_ids:
        messages.error(request, _("Choose at least one item to delete."))
        return redirect("cart:page")
    if request.method == "GET":
        cart = selectors.cart_get(user_id=signed_in_user_id(request))
        lines = [line for line in cart.lines if line.product_id in product_ids]
        return render(request, "cart/remove_confirm.html", {"lines": lines})
    result = services.cart_remove_lines(user_id=signed_in_user_id(request), product_ids=product_ids)
    if result.removed:
        count = len(result.removed)
        messages.success(
            request,
            ngettext(
                "Deleted {count} item from your cart.",
                "Deleted {count} items from your cart.",
                count,
            ).format(count=format_number(count)),
        )
    return redirect("cart:page")
