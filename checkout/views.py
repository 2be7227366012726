"""Checkout pages: review, start (reserve and go to payment), success, cancel."""

from __future__ import annotations

from dataclasses import replace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog.money import format_money
from checkout import services
from checkout.delivery import DELIVERY_RULES
from checkout.forms import DeliveryForm
from checkout.links import checkout_urls
from checkout.selectors import (
    CodAmountLimitExceeded,
    QuantityLimitExceeded,
    TotalChanged,
    checkout_preview,
    cod_refusal,
    voucher_find,
    voucher_refusal,
)
from haat.errors import (
    DeliveryZoneUnknown,
    DomainError,
    InsufficientStock,
    InvalidInput,
    VoucherRefused,
    message,
)
from haat.forms import form_order_id, form_product_id, form_product_ids, form_quantity
from haat.http import signed_in_user_id
from haat.limits import rate_limit
from haat.validation import parse_id
from orders.models import Order, OrderEvent
from orders.selectors import delivery_zone_choose, delivery_zones, order_get
from orders.services import OrderActor


def _selection(data: QueryDict) -> dict:
    """The checkout's items: ``buy_now=<id>&quantity=<n>`` or ``product_ids=…`` (cart lines)."""
    if data.get("buy_now"):
        return {
            "buy_now": (
                form_product_id(data["buy_now"]),
                form_quantity(data.get("quantity", "1")),
            )
        }
    return {"product_ids": form_product_ids(data.getlist("product_ids"))}


@require_POST
def buy_now(request: HttpRequest) -> HttpResponse:
    """Buy Now from a product page: straight to the checkout for just that product and quantity
    (the cart is left alone). Anonymous shoppers sign in first and land on the same checkout."""
    product_id = form_product_id(request.POST.get("product_id"))
    quantity = form_quantity(request.POST.get("quantity", "1"))
    url = f"{reverse('checkout:review')}?{urlencode({'buy_now': product_id, 'quantity': quantity})}"
    if not request.user.is_authenticated:
        return redirect_to_login(url, reverse("accounts:login"))
    return redirect(url)


def _zone_id(data: QueryDict) -> int | None:
    """The delivery zone the shopper picked (none yet: the one that follows, see
    ``delivery_zone_choose``)."""
    if not data.get("delivery_zone"):
        return None
    return parse_id(data["delivery_zone"], message_key="invalid_delivery_zone_id")


def _expected_total(data: QueryDict) -> int | None:
    """The total the page showed, so an order is never placed for an amount not seen."""
    text = data.get("expected_total", "")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 19 else None


def _review_page(
    request: HttpRequest,
    data: QueryDict,
    form: DeliveryForm,
    *,
    status: int = 200,
) -> HttpResponse:
    user_id = signed_in_user_id(request)
    city = str(form["city"].value() or "")
    try:
        try:
            zone = delivery_zone_choose(user_id=user_id, zone_id=_zone_id(data), city=city)
        except DeliveryZoneUnknown as refusal:  # e.g. removed while the page was open
            messages.error(request, refusal.message)
            zone = delivery_zone_choose(user_id=user_id, city=city)
        preview = checkout_preview(user_id=user_id, delivery_zone=zone, **_selection(data))
        voucher_code = data.get("voucher", "").strip()
        voucher_error = ""
        if voucher_code:
            try:
                voucher = voucher_find(voucher_code)
                refused = voucher_refusal(
                    voucher, user_id=user_id, items_minor=preview.subtotal_minor
                )
                if refused is not None:
                    raise refused
            except VoucherRefused as refusal:  # shown at the field; the rest stays usable
                voucher_error = refusal.message
            else:
                preview = replace(preview, voucher=voucher)
    except DomainError as refusal:
        if isinstance(refusal, InvalidInput):
            raise  # malformed items or an impossible total: the 400 page says why
        messages.error(request, refusal.message)
        return redirect("cart:page")
    context = {
        "preview": preview,
        "form": form,
        "zones": delivery_zones(),
        "voucher_code": voucher_code[:40],
        "voucher_error": voucher_error,
        "cod_refusal": cod_refusal(preview),
        "payment_method": data.get("payment_method", Order.PaymentMethod.CARD),
    }
    return render(request, "checkout/review.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def review(request: HttpRequest) -> HttpResponse:
    """The checkout page. Its "Update total" button posts the form here: the amounts are
    worked out again for the chosen zone, with what was typed kept (and not yet checked)."""
    if request.method == "POST":
        form = DeliveryForm(initial={name: request.POST.get(name, "") for name in DELIVERY_RULES})
        return _review_page(request, request.POST, form)
    form = DeliveryForm(initial=services.last_delivery(user_id=signed_in_user_id(request)))
    return _review_page(request, request.GET, form)


@require_POST
@login_required
@rate_limit("checkout")
def start(request: HttpRequest) -> HttpResponse:
    """Place the order: re-check and reserve stock, then hand over to the payment page."""
    form = DeliveryForm(request.POST)
    if not form.is_valid():
        # Refused before any service runs: an earlier unpaid checkout is left as it is.
        return _review_page(request, request.POST, form, status=400)
    try:
        urls = checkout_urls(request)
        order = services.checkout_start(
            user_id=signed_in_user_id(request),
            success_url=urls["success_url"],
            cancel_url=urls["cancel_url"],
            delivery=form.cleaned_data,
            delivery_zone_id=_zone_id(request.POST),
            expected_total_minor=_expected_total(request.POST),
            voucher_code=request.POST.get("voucher", "")[:100],
            payment_method=request.POST.get("payment_method", Order.PaymentMethod.CARD)[:20],
            **_selection(request.POST),
        )
    except VoucherRefused:
        return _review_page(request, request.POST, form)  # the page says why, at the field
    except (
        InsufficientStock,
        QuantityLimitExceeded,
        DeliveryZoneUnknown,
        TotalChanged,
        CodAmountLimitExceeded,
    ) as refusal:
        messages.error(request, refusal.message)
        # The review again, now showing each problem line; the delivery details stay filled in.
        return _review_page(request, request.POST, form)
    except DomainError as refusal:
        if isinstance(refusal, InvalidInput):
            raise  # malformed items or an impossible total: the 400 page says why
        messages.error(request, refusal.message)
        return redirect("cart:page")
    if order.payment_method == Order.PaymentMethod.COD:
        messages.success(
            request,
            _(
                "Thank you! Order {number} is placed: pay {total} in cash when it is delivered."
            ).format(number=order.number, total=format_money(order.total_minor)),
        )
        return redirect(order.get_absolute_url())
    return redirect(order.payment_url)


@require_GET
@login_required
def success(request: HttpRequest) -> HttpResponse:
    """Where the payment page sends the shopper back. Fulfils the order here too, in case the
    payment event has not arrived yet."""
    try:
        order = order_get(
            user_id=signed_in_user_id(request), order_id=form_order_id(request.GET.get("order"))
        )
    except DomainError:
        messages.error(request, message("order_not_found"))
        return redirect("orders:list")
    order = services.checkout_confirm(order=order)
    if order.status == order.Status.PAID:
        messages.success(
            request, _("Thank you! Order {number} is confirmed.").format(number=order.number)
        )
    return redirect(order.get_absolute_url())


def _back_to_shop(order: Order) -> HttpResponse:
    """Where a shopper who gave up on paying returns: the product (Buy Now) or the cart."""
    if order.source == order.Source.BUY_NOW:
        line = order.lines.first()
        if line and line.product_slug:
            return redirect("catalog:product", slug=line.product_slug)
        return redirect("catalog:home")
    return redirect("cart:page")


@require_http_methods(["GET", "POST"])
@login_required
def cancel(request: HttpRequest) -> HttpResponse:
    """Where the payment page's "back" link lands. A GET changes nothing, whoever linked to
    it: it shows the pending order with two choices, back to payment or cancel. Only the POST
    (with its CSRF token) cancels the order and puts the held units back on sale."""
    data = request.POST if request.method == "POST" else request.GET
    try:
        order = order_get(
            user_id=signed_in_user_id(request), order_id=form_order_id(data.get("order"))
        )
    except DomainError:
        return redirect("cart:page")
    if request.method == "GET":
        if order.status == order.Status.PENDING:
            return render(request, "checkout/cancel.html", {"order": order})
        if order.status == order.Status.CANCELLED:
            messages.info(
                request,
                _("Order {number} is cancelled. Nothing was charged.").format(number=order.number),
            )
            return _back_to_shop(order)
        return redirect(order.get_absolute_url())
    order = services.order_abandon(
        order_id=order.pk,
        reason=OrderEvent.Reason.PAYMENT_CANCELLED,
        by=OrderActor.shopper(order.user_id),
    )
    if order.status != order.Status.CANCELLED:  # paid meanwhile: the payment stands
        return redirect(order.get_absolute_url())
    if order.source == order.Source.BUY_NOW:
        messages.info(request, _("Payment cancelled. Nothing was charged."))
    else:
        messages.info(request, _("Payment cancelled. Nothing was charged; your cart is as it was."))
    return _back_to_shop(order)
