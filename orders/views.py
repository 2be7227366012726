"""The shopper's orders."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from checkout.services import order_abandon
from haat.errors import OrderNotFound
from haat.http import signed_in_user_id
from orders import selectors
from orders.models import OrderEvent
from orders.services import OrderActor


@require_GET
@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    orders = selectors.order_list(user_id=signed_in_user_id(request))
    return render(request, "orders/order_list.html", {"orders": orders})


@require_POST
@login_required
def order_cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    """A shopper cancels their own unpaid order: the held items go back on sale."""
    try:
        order = selectors.order_get(user_id=signed_in_user_id(request), order_id=order_id)
    except OrderNotFound:
        raise Http404("No such order.") from None
    order = order_abandon(
        order_id=order.pk,
        reason=OrderEvent.Reason.SHOPPER_CANCELLED,
        by=OrderActor.shopper(order.user_id),
    )
    if order.status == order.Status.CANCELLED:
        messages.success(
            request,
            _("Order {number} is cancelled. Nothing was charged.").format(number=order.number),
        )
    else:
        messages.error(
            request,
            _("Order {number} is already {status}.").format(
                number=order.number, status=order.get_status_display().lower()
            ),
        )
    return redirect(order.get_absolute_url())


@require_GET
@login_required
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    try:
        order = selectors.order_get(user_id=signed_in_user_id(request), order_id=order_id)
    except OrderNotFound:
        raise Http404("No such order.") from None
    return render(
        request,
        "orders/order_detail.html",
        {"order": order, "timeline": selectors.order_timeline(order=order)},
    )
