"""Checkout: re-check, reserve, pay, fulfil exactly once, release, refund.

Every change of an order happens in one transaction that holds the order's row lock, so
duplicate, retried or out-of-order payment events (and the success page racing the webhook)
find the order already in its final state and change nothing. Stock moves only through the
ledger services: a reservation takes units (``reservation``), a release gives them back
(``release``), and a sale takes them for good (``sale``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import cache, partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Model, QuerySet
from django.utils import timezone

from accounts.models import User
from catalog.models import Product, StockMovement
from catalog.services import stock_return, stock_take
from checkout.models import Reservation, Voucher, VoucherRedemption
from checkout.selectors import (
    CHECKOUT_SHORT,
    CheckoutPreview,
    checkout_preview,
    checkout_refusal,
    cod_refusal,
    voucher_find,
    voucher_refusal,
    voucher_uses_refusal,
)
from haat import metrics
from haat.background import enqueue
from haat.errors import DomainError, InsufficientStock, PaymentMethodUnknown, VoucherRefused
from haat.store.sql import (
    Alongside,
    columns,
    from_row,
    insert_family,
    lock_clause,
    marks,
    sql,
    update,
)
from orders.models import Order, OrderEvent, OrderLine, OrderMail
from orders.selectors import delivery_zone_choose
from orders.services import (
    BY_SYSTEM,
    BY_TASK,
    OrderActor,
    order_event_new,
    order_event_record,
    order_mail_queue,
    order_status_change,
)
from payments.gateways import GatewayError, SessionState, get_gateway
from payments.selectors import payment_mismatches

log = logging.getLogger(__name__)

Reason = OrderEvent.Reason


class CheckoutInProgress(DomainError):
    """Another checkout of the same shopper is holding stock right now (the database allows one
    active reservation per shopper)."""

    code = "checkout_in_progress"
    http_status = 409


class CheckoutReplaced(DomainError):
    """A newer checkout of the same shopper replaced this one while its payment page opened."""

    code = "checkout_replaced"
    http_status = 409


def checkout_start(
    *,
    user_id: int,
    success_url: str,
    cancel_url: str,
    product_ids: list[int] | None = None,
    buy_now: tuple[int, int] | None = None,
    delivery: dict[str, str] | None = None,
    delivery_zone_id: int | None = None,
    expected_total_minor: int | None = None,
    voucher_code: str = "",
    payment_method: str = Order.PaymentMethod.CARD,
) -> Order:
    """Re-check stock, reserve it with a pending order, and open a payment session.

    The delivery fee is the chosen zone's (``delivery_zone_id``; without one, the zone that
    follows from the shopper's last order or city, see ``delivery_zone_choose``). A
    ``voucher_code`` is checked first and counted as used in the reserving transaction, under
    the voucher's row lock, so its limits hold however many shoppers redeem it at once.

    Cash on delivery (``payment_method="cod"``, for totals up to ``COD_MAX_TOTAL_MINOR``):
    the units are sold at once (the same conditional stock take), the order waits "to be paid
    on delivery" with no payment session, and the confirmation mail is queued.

    One checkout per shopper: the shopper's earlier unpaid orders (they went back and started
    again) are cancelled and their units returned in the same transaction that reserves the new
    one, under a lock on the shopper's row, so concurrent checkouts of one shopper queue up and
    the newest wins. ``success_url`` and ``cancel_url`` may contain ``{ORDER_ID}``;
    ``success_url`` may contain ``{CHECKOUT_SESSION_ID}`` (filled in by the gateway)."""
    zone = delivery_zone_choose(
        user_id=user_id, zone_id=delivery_zone_id, city=(delivery or {}).get("city", "")
    )
    voucher = voucher_find(voucher_code) if voucher_code.strip() else None
    preview_of = partial(
        checkout_preview,
        user_id=user_id,
        product_ids=product_ids,
        buy_now=buy_now,
        delivery_zone=zone,
        voucher=voucher,
    )
    preview = preview_of()
    if voucher is not None:
        refused_voucher = voucher_refusal(
            voucher, user_id=user_id, items_minor=preview.subtotal_minor
        )
        if refused_voucher is not None:
            metrics.count_now(metrics.CHECKOUTS, outcome="refused")
            raise refused_voucher
    # Short? Stock may be held by reservations that ran out without any event: put it back on
    # the shelf and look again (only then, to keep the common path short).
    if preview.problems and reservations_release_expired(
        product_ids=list(preview.quantities), by=BY_SYSTEM
    ):
        preview = preview_of()
    refusal = checkout_refusal(preview, expected_total_minor=expected_total_minor)
    if payment_method not in Order.PaymentMethod.values:
        raise PaymentMethodUnknown(payment_method=payment_method[:20])
    cod = payment_method == Order.PaymentMethod.COD
    if refusal is None and cod:
        refusal = cod_refusal(preview)
    if refusal is not None:
        metrics.count_now(metrics.CHECKOUTS, outcome="refused")
        raise refusal
    gateway = None if cod else get_gateway()
    expires_at = timezone.now() + timedelta(minutes=settings.CHECKOUT_RESERVATION_MINUTES)
    order, replaced, refused = _replace_and_reserve(
        user_id=user_id,
        preview=preview,
        gateway_name=gateway.name if gateway else "",
        expires_at=expires_at,
        delivery=delivery,
        cod=cod,
    )
    for earlier in replaced:  # outside the transaction: the gateway may be slow
        if earlier.payment_session_id:
            get_gateway(earlier.gateway).expire_session(earlier.payment_session_id)
    if isinstance(refused, VoucherRefused):  # used up (or the like) since the check above
        metrics.count_now(metrics.CHECKOUTS, outcome="refused")
        raise refused
    if isinstance(refused, InsufficientStock):
        # Someone else took the units between the re-check and the reservation.
        metrics.count_now(metrics.CHECKOUTS, outcome="refused")
        raise InsufficientStock(items=refused.items, message_key=CHECKOUT_SHORT)
    if order is None:
        # Only the one-active-reservation constraint refuses this way: another checkout of this
        # shopper got in without seeing this one.
        raise CheckoutInProgress()

    if gateway is None:  # cash on delivery: sold, nothing to pay now
        if order.source == Order.Source.CART:
            # After commit, in the background, as after a payment (see order_fulfil).
            enqueue(
                "cart.services.cart_remove_bought",
                user_id=user_id,
                lines=sorted(preview.quantities.items()),
            )
        metrics.count(metrics.CHECKOUTS, outcome="started")
        return order
    metrics.count(metrics.RESERVATIONS, event="made")
    order_id = order.pk

    def fill(url: str) -> str:
        return url.replace("{ORDER_ID}", str(order_id))

    try:
        session = gateway.create_session(
            order=order,
            success_url=fill(success_url),
            cancel_url=fill(cancel_url),
            expires_at=expires_at,
            idempotency_key=f"haat-order-{order.pk}-session",
        )
    except GatewayError:
        metrics.count_now(metrics.CHECKOUTS, outcome="failed")
        order_cancel(
            order_id=order.pk, reason=Reason.PAYMENT_PAGE_FAILED, by=OrderActor.shopper(user_id)
        )
        raise
    # One conditional UPDATE, which waits for the order's row lock: a newer checkout that
    # cancels this order either sees the session id (and closes the session) or this sees the
    # cancellation. (The order object keeps its cached reservation for the answer.)
    session_fields = {
        "payment_session_id": session.id,
        "payment_url": session.url,
        "updated_at": timezone.now(),
    }
    if not update(Order, session_fields, pk=order.pk, status=Order.Status.PENDING):
        update(Order, session_fields, pk=order.pk)  # on record all the same
        gateway.expire_session(session.id)
        raise CheckoutReplaced()
    for name, value in session_fields.items():
        setattr(order, name, value)
    metrics.count(metrics.CHECKOUTS, outcome="started")
    return order


def _replace_and_reserve(
    *,
    user_id: int,
    preview: CheckoutPreview,
    gateway_name: str,
    expires_at: datetime,
    delivery: dict[str, str] | None,
    cod: bool = False,
) -> tuple[Order | None, list[Order], InsufficientStock | VoucherRefused | IntegrityError | None]:
    """One transaction: cancel the shopper's earlier unpaid orders, reserve the new one.
    Returns (the new order or None, the cancelled orders, why it was refused or None).

    A refusal keeps the earlier orders' cancellation (the newest checkout wins, even when it
    is refused; the caller closes their payment sessions either way). Refusals here are rare
    (the units or the voucher's last use went between the re-check and the reservation), so
    instead of a savepoint on every checkout, a refused one is rolled back whole and the
    orders it had cancelled are cancelled again in a transaction of their own: only those, so
    a newer checkout of the shopper's that got in meanwhile keeps its order."""
    replaced: list[Order] = []
    try:
        with transaction.atomic():
            replaced = _cancel_earlier_checkouts(
                user_id=user_id, product_ids=preview.quantities, voucher=preview.voucher
            )
            order = _reserve(
                user_id=user_id,
                preview=preview,
                gateway_name=gateway_name,
                expires_at=expires_at,
                delivery=delivery,
                cod=cod,
            )
            return order, replaced, None
    except (InsufficientStock, VoucherRefused, IntegrityError) as error:
        refused = error
    if not replaced:
        return None, [], refused
    with transaction.atomic():
        replaced = _cancel_earlier_checkouts(
            user_id=user_id, product_ids=(), only=[order.pk for order in replaced]
        )
    return None, replaced, refused


def _cancel_earlier_checkouts(
    *,
    user_id: int,
    product_ids: Iterable[int],
    voucher: Voucher | None = None,
    only: list[int] | None = None,
) -> list[Order]:
    """Lock the shopper's row (serialising their checkouts) and cancel their unpaid orders,
    returning the units and vouchers. Returns the cancelled orders. Caller holds a transaction.

    Rows are locked in one order everywhere: shopper, orders, vouchers (by id), products (by
    id); so the voucher this checkout redeems and those the earlier orders give back are
    locked here, before the products. ``only``: just these of them (those still unpaid).
    Every checkout runs this, so it is hand-written SQL: one statement per lock, and none for
    locks that would change nothing."""
    earlier_query = _earlier_orders(len(only) if only is not None else None)
    earlier_params: list[int | str] = [
        VoucherRedemption.Status.ACTIVE,
        user_id,
        Order.Status.PENDING,
        *(only or []),
    ]
    with connection.cursor() as cursor:
        # The read is a statement after the shopper's lock, so it sees every checkout of theirs
        # committed before (a statement's snapshot is taken when it starts, also when the two
        # go in one round trip, as on PostgreSQL). Lines never change, and redemptions only
        # under their order's lock, held now.
        if connection.vendor == "postgresql":
            cursor.execute(f"{_shopper_lock()}; {earlier_query}", [user_id, *earlier_params])
            cursor.nextset()
        else:
            cursor.execute(_shopper_lock(), [user_id])
            cursor.execute(earlier_query, earlier_params)
        rows = cursor.fetchall()
        earlier: dict[int, Order] = {}
        held: dict[int, dict[int, int]] = {}
        redeemed: dict[int, int] = {}
        for row in rows:
            order_id, (product_id, quantity, voucher_id) = row[0], row[-3:]
            if order_id not in earlier:
                earlier[order_id] = from_row(Order, row)
                held[order_id] = {}
                if voucher_id is not None:
                    redeemed[order_id] = voucher_id
            if product_id is not None:
                quantities = held[order_id]
                quantities[product_id] = quantities.get(product_id, 0) + quantity
        voucher_ids = sorted({*redeemed.values(), *([voucher.pk] if voucher else [])})
        if voucher_ids:
            cursor.execute(_locked_ids(Voucher, len(voucher_ids)), voucher_ids)
        if not earlier:
            return []
        # Returning the earlier units and taking the new ones touch two sets of products: they
        # are locked first, in ascending id like every other stock change, so two shoppers
        # swapping checkouts over the same products queue up instead of deadlocking. Unless
        # the returns and the take (each in ascending id) first touch them in that order anyway.
        touched = [*(pk for quantities in held.values() for pk in sorted(quantities))]
        touched += sorted(product_ids)
        first_touch = list(dict.fromkeys(touched))
        if first_touch != sorted(first_touch):
            involved = sorted(first_touch)
            cursor.execute(_locked_ids(Product, len(involved)), involved)
    for order in earlier.values():
        _order_cancel_locked(
            order,
            reason=Reason.CHECKOUT_REPLACED,
            by=OrderActor.shopper(user_id),
            quantities=held[order.pk],
            has_voucher=order.pk in redeemed,
        )
    return list(earlier.values())


@cache
def _shopper_lock() -> str:
    return sql("SELECT {U.pk} FROM {U} WHERE {U.pk} = %s", U=User) + lock_clause()


@cache
def _earlier_orders(among: int | None = None) -> str:
    """A shopper's orders in one status (``among``: and with one of that many ids), locked,
    oldest first: each row the order's columns, then one line's product and quantity (NULL:
    no lines), then the voucher of its redemption in the given status (NULL: none)."""
    only = "" if among is None else sql(" AND o.{O.pk} IN ", O=Order) + f"({marks(among)})"
    return (
        f"SELECT {columns(Order, 'o')}, "  # noqa: S608 (names from the models' _meta)
        + sql(
            "l.{L.product_ref}, l.{L.quantity}, (SELECT r.{R.voucher} FROM {R} r "
            "WHERE r.{R.order} = o.{O.pk} AND r.{R.status} = %s) "
            "FROM {O} o LEFT JOIN {L} l ON l.{L.order} = o.{O.pk} "
            "WHERE o.{O.user} = %s AND o.{O.status} = %s",
            O=Order,
            L=OrderLine,
            R=VoucherRedemption,
        )
        + only
        + sql(" ORDER BY o.{O.pk}, l.{L.pk}", O=Order, L=OrderLine)
        + lock_clause("o")
    )


def _locked_ids(model: type[Product | Voucher], count: int) -> str:
    """Lock ``count`` rows of ``model`` by id, in ascending id (the ids in that order)."""
    return (
        sql("SELECT {M.pk} FROM {M} WHERE {M.pk} IN ", M=model)  # noqa: S608 (placeholders)
        + f"({marks(count)})"
        + sql(" ORDER BY {M.pk}", M=model)
        + lock_clause()
    )


def _reserve(
    *,
    user_id: int,
    preview: CheckoutPreview,
    gateway_name: str,
    expires_at: datetime,
    delivery: dict[str, str] | None,
    cod: bool = False,
) -> Order:
    """Write the pending order and its reservation, and take the units (caller's transaction).
    Cash on delivery: the order awaits delivery, with no reservation, and the units are sold.
    The order and the rows that refer to it are written in one statement, without the
    ORM's query building (``haat.store.sql.insert_family``)."""
    order = Order(
        user_id=user_id,
        status=Order.Status.AWAITING_DELIVERY if cod else Order.Status.PENDING,
        payment_method=Order.PaymentMethod.COD if cod else Order.PaymentMethod.CARD,
        source=Order.Source.BUY_NOW if preview.buy_now else Order.Source.CART,
        currency=settings.SHOP_CURRENCY,
        subtotal_minor=preview.subtotal_minor,
        delivery_fee_minor=preview.delivery_fee_minor,
        discount_minor=preview.discount_minor,
        total_minor=preview.total_minor,
        delivery_zone=preview.delivery_zone.name if preview.delivery_zone else "",
        voucher_code=preview.voucher.code if preview.voucher else "",
        gateway=gateway_name,
        **{f"delivery_{key}": value for key, value in (delivery or {}).items()},
    )
    rows: list[Model] = [
        OrderLine(
            order=order,
            product_id=item.product_id,
            product_ref=item.product_id,
            product_name=item.name,
            product_slug=item.slug,
            unit_price_minor=item.unit_price_minor,
            quantity=item.quantity,
        )
        for item in preview.items
    ]
    if not cod:  # cached on the order as its reservation
        rows.append(Reservation(order=order, user_id=user_id, expires_at=expires_at))
    placed = Reason.COD_PLACED if cod else Reason.PLACED
    rows.append(
        order_event_new(order, reason=placed, by=OrderActor.shopper(user_id), from_status="")
    )
    insert_family(order, *rows)  # one statement on PostgreSQL
    if preview.voucher is not None:
        _voucher_redeem(preview, order=order, user_id=user_id)
    if cod:  # rolled back with the order if the stock is not there
        order_mail_queue(order=order, kind=OrderMail.Kind.CONFIRMATION)
    # Last in the transaction: the product rows stay locked only from here to commit.
    stock_take(
        quantities=preview.quantities,
        reason=StockMovement.Reason.SALE if cod else StockMovement.Reason.RESERVATION,
        reference=order.number,
    )
    return order


def _voucher_redeem(preview: CheckoutPreview, *, order: Order, user_id: int) -> None:
    """Count one use of the preview's voucher for ``order``, checked again under the voucher's
    row lock (taken by ``_cancel_earlier_checkouts``), so at most ``max_uses`` orders in all
    and ``max_uses_per_shopper`` per shopper ever hold it. Caller's transaction."""
    assert preview.voucher is not None
    voucher = Voucher.objects.select_for_update().get(pk=preview.voucher.pk)
    refusal = voucher_refusal(voucher, user_id=user_id, items_minor=preview.subtotal_minor)
    if refusal is not None:
        raise refusal
    Voucher.objects.filter(pk=voucher.pk).update(uses=F("uses") + 1)
    VoucherRedemption.objects.create(
        voucher=voucher, order=order, user_id=user_id, discount_minor=preview.discount_minor
    )


def _voucher_give_back(order: Order) -> bool:
    """The order ended without a sale: its voucher use no longer counts. Caller holds the
    order's lock; call it before any stock moves (vouchers are locked before products)."""
    redemption = (
        VoucherRedemption.objects.select_for_update()
        .filter(order=order, status=VoucherRedemption.Status.ACTIVE)
        .first()
    )
    if redemption is None:
        return False
    Voucher.objects.filter(pk=redemption.voucher_id).update(uses=F("uses") - 1)
    redemption.status = VoucherRedemption.Status.RETURNED
    redemption.returned_at = timezone.now()
    redemption.save(update_fields=["status", "returned_at"])
    return True


def _voucher_reclaim(order: Order) -> None:
    """A late payment for ``order``, whose voucher use was given back when its reservation
    ended: count the use again if the voucher's limits still allow it (the same check as a
    redemption, under the voucher's row lock; its dates and minimum spend were met when the
    order was placed). Raises ``VoucherUsedUp`` or ``VoucherLimitPerShopper`` when they do
    not. Caller holds the order's lock and a transaction; call it before any stock moves."""
    redemption = (
        VoucherRedemption.objects.select_for_update()
        .filter(order=order, status=VoucherRedemption.Status.RETURNED)
        .first()
    )
    if redemption is None:  # no voucher, or its use still counts
        return
    voucher = Voucher.objects.select_for_update().get(pk=redemption.voucher_id)
    refusal = voucher_uses_refusal(voucher, user_id=redemption.user_id, replacing=False)
    if refusal is not None:
        raise refusal
    Voucher.objects.filter(pk=voucher.pk).update(uses=F("uses") + 1)
    redemption.status = VoucherRedemption.Status.ACTIVE
    redemption.returned_at = None
    redemption.save(update_fields=["status", "returned_at"])


def last_delivery(*, user_id: int) -> dict[str, str]:
    """The delivery details of the shopper's latest order, to fill the checkout form."""
    order = (
        Order.objects.filter(user_id=user_id)
        .exclude(delivery_address="")
        .values("delivery_name", "delivery_phone", "delivery_address", "delivery_city")
        .first()
    )
    return {key.removeprefix("delivery_"): str(value) for key, value in (order or {}).items()}


def _quantities(order: Order) -> dict[int, int]:
    quantities: dict[int, int] = {}
    for product_id, quantity in order.lines.values_list("product_ref", "quantity"):
        quantities[product_id] = quantities.get(product_id, 0) + quantity
    return quantities


def _release_reservation(
    order: Order,
    *,
    reason: str,
    by: OrderActor,
    converted: bool = False,
    quantities: dict[int, int] | None = None,
) -> bool:
    """Give reserved units back (caller holds the order lock). False if nothing was held.
    A staff member's release names them in the stock ledger. ``quantities``: the order's, if
    the caller has them already."""
    closing = _reservation_close(order, reason=reason, converted=converted)
    if not closing.run():
        return False
    _reserved_units_back(order, by=by, converted=converted, quantities=quantities)
    return True


def _reservation_close(order: Order, *, reason: str, converted: bool = False) -> Alongside:
    """The one conditional UPDATE that closes the order's active reservation (it changes only
    under the order's lock), to run on its own or with the order's status change."""
    return Alongside(
        Reservation,
        {
            "status": Reservation.Status.CONVERTED if converted else Reservation.Status.RELEASED,
            "closed_at": timezone.now(),
            "close_reason": reason[:100],
        },
        {"order": order.pk, "status": Reservation.Status.ACTIVE},
    )


def _reserved_units_back(
    order: Order, *, by: OrderActor, converted: bool, quantities: dict[int, int] | None
) -> None:
    """The units of the reservation just closed go back to the shelf, through the ledger."""
    stock_return(
        quantities=quantities if quantities is not None else _quantities(order),
        reason=StockMovement.Reason.RELEASE,
        reference=order.number,
        actor=User.objects.get(pk=by.staff_user_id) if by.staff_user_id else None,
    )
    metrics.count(metrics.RESERVATIONS, event="converted" if converted else "released")


def order_cancel(
    *, order_id: int, reason: str, by: OrderActor, data: dict[str, Any] | None = None
) -> Order:
    """Payment failed, was abandoned or expired: release the reservation, cancel the order
    (``reason`` is an ``OrderEvent.Reason``; ``by`` who or what cancels it). Orders already
    paid, refunded or cancelled stay as they are, and get no event."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        _order_cancel_locked(order, reason=reason, by=by, data=data)
        return order


def _order_cancel_locked(
    order: Order,
    *,
    reason: str,
    by: OrderActor,
    data: dict[str, Any] | None = None,
    quantities: dict[int, int] | None = None,
    has_voucher: bool = True,
) -> None:
    """Cancel a pending order whose row the caller has locked, returning its units. A caller
    that has read them passes the order's ``quantities`` and whether it holds a voucher."""
    if order.status != Order.Status.PENDING:
        return
    if has_voucher:
        _voucher_give_back(order)
    # The reservation closes in the statement of the status change; then its units go back.
    closing = _reservation_close(order, reason=str(Reason(reason).label))
    order_status_change(
        order,
        to_status=Order.Status.CANCELLED,
        reason=reason,
        by=by,
        data=data,
        alongside=closing,
    )
    if closing.matched:
        _reserved_units_back(order, by=by, converted=False, quantities=quantities)


def order_payment_declined(
    *, order_id: int, by: OrderActor, data: dict[str, Any] | None = None
) -> Order:
    """A card was declined on the payment page. Nothing ends: as with Stripe Checkout the
    session stays open for another card, so the order keeps waiting for payment with its
    stock (and voucher use) held until the reservation expires, the shopper cancels, or a
    later card pays. The decline is written to the order's history (no status changes)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status == Order.Status.PENDING:
            order_event_record(
                order,
                reason=Reason.PAYMENT_DECLINED,
                by=by,
                from_status=order.status,
                data=data,
            )
        return order


def order_abandon(*, order_id: int, reason: str, by: OrderActor) -> Order:
    """The shopper (or staff for them) gave up on paying: cancel, release, and close the
    payment session so the abandoned page can no longer take money."""
    order = order_cancel(order_id=order_id, reason=reason, by=by)
    if order.status == Order.Status.CANCELLED and order.payment_session_id:
        get_gateway(order.gateway).expire_session(order.payment_session_id)
    return order


def orders_staff_cancel(*, order_ids: Iterable[int], staff_id: int) -> int:
    """Staff cancel unpaid orders (the shopper asked, or the order is a mistake): each as if
    its shopper gave up, with the staff member named in its event and in the stock ledger;
    a cash-on-delivery order not yet delivered gets its units back too. Orders no longer
    unpaid are left as they are. Returns how many were cancelled."""
    by = OrderActor.staff(staff_id)
    unpaid = Order.objects.filter(
        pk__in=list(order_ids),
        status__in=[Order.Status.PENDING, Order.Status.AWAITING_DELIVERY],
    )
    cancelled = 0
    for order_id, status in sorted(unpaid.values_list("pk", "status")):
        if status == Order.Status.AWAITING_DELIVERY:
            cancelled += _cod_undo(order_id=order_id, by=by, returned=False)
            continue
        order = order_abandon(order_id=order_id, reason=Reason.STAFF_CANCELLED, by=by)
        cancelled += order.status == Order.Status.CANCELLED
    return cancelled


def _cod_undo(*, order_id: int, by: OrderActor, returned: bool) -> bool:
    """A cash-on-delivery order ends unsold: the parcel came back (``returned``) or the shop
    cancelled it before delivery. Its units go back through the ledger (``return``, naming the
    staff member) and its voucher use is given back; once only, under the order's lock.
    Returns whether this call ended it."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != Order.Status.AWAITING_DELIVERY:
            return False
        _voucher_give_back(order)
        stock_return(
            quantities=_quantities(order),
            reason=StockMovement.Reason.RETURN,
            reference=order.number,
            actor=User.objects.get(pk=by.staff_user_id) if by.staff_user_id else None,
        )
        return order_status_change(
            order,
            to_status=Order.Status.RETURNED if returned else Order.Status.CANCELLED,
            reason=Reason.COD_RETURNED if returned else Reason.STAFF_CANCELLED,
            by=by,
        )


def orders_cod_returned(*, order_ids: Iterable[int], staff_id: int) -> int:
    """Staff: these cash-on-delivery parcels came back. Returns how many were marked."""
    by = OrderActor.staff(staff_id)
    done = 0
    for order_id in sorted(set(order_ids)):
        done += _cod_undo(order_id=order_id, by=by, returned=True)
    return done


def orders_cod_delivered(*, order_ids: Iterable[int], staff_id: int) -> int:
    """Staff: these cash-on-delivery orders were delivered and the cash taken; they count as
    paid. Orders not awaiting delivery are left as they are. Returns how many were marked."""
    by = OrderActor.staff(staff_id)
    done = 0
    for order_id in sorted(set(order_ids)):
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=order_id)
            if order.status == Order.Status.AWAITING_DELIVERY:
                done += order_status_change(
                    order,
                    to_status=Order.Status.PAID,
                    reason=Reason.COD_DELIVERED,
                    by=by,
                    paid_at=timezone.now(),
                )
    return done


def order_fulfil(*, order_id: int, by: OrderActor, payment_reference: str = "") -> Order:
    """The payment succeeded: turn the reservation into a sale, exactly once.

    If the reservation had already ended (paid after expiry), the units are taken again if they
    are still there; otherwise the order is marked for a refund (see ``order_refund``)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status in {Order.Status.PAID, Order.Status.REFUND_DUE, Order.Status.REFUNDED}:
            return order
        reference = payment_reference[:255] or order.payment_reference
        quantities = _quantities(order)
        # Units held for this order go back and are sold in the same transaction, so nobody
        # else can take them in between.
        held = _release_reservation(
            order, reason="paid", by=by, converted=True, quantities=quantities
        )
        try:
            with transaction.atomic():
                if not held:
                    # Paid after the reservation ended, which gave the voucher use back: the
                    # discount stands only if the use can be counted again (vouchers are
                    # locked before products, as everywhere).
                    _voucher_reclaim(order)
                stock_take(
                    quantities=quantities,
                    reason=StockMovement.Reason.SALE,
                    reference=order.number,
                )
        except (InsufficientStock, VoucherRefused) as refused:
            # Refunded in full (order_refund): a sale at a discount the voucher no longer
            # allows would break its limits as surely as selling stock that is gone.
            order_status_change(
                order,
                to_status=Order.Status.REFUND_DUE,
                reason=Reason.PAID_TOO_LATE_VOUCHER
                if isinstance(refused, VoucherRefused)
                else Reason.PAID_TOO_LATE,
                by=by,
                data={"payment_reference": reference, "refused": refused.code},
                payment_reference=reference,
            )
            metrics.count(metrics.PAYMENTS, outcome="refund_due")
            return order
        order_status_change(
            order,
            to_status=Order.Status.PAID,
            reason=Reason.PAID,
            by=by,
            data={"payment_reference": reference},
            payment_reference=reference,
            paid_at=timezone.now(),
        )
        metrics.count(metrics.PAYMENTS, outcome="paid")
        if order.source == Order.Source.CART and order.user_id:
            # After commit, in the background: the cart may live in Sanity, which is never
            # asked while this transaction holds the order and product rows locked.
            enqueue(
                "cart.services.cart_remove_bought",
                user_id=order.user_id,
                lines=sorted(quantities.items()),
            )
        order_mail_queue(order=order, kind=OrderMail.Kind.CONFIRMATION)
        return order


def order_refund(*, order_id: int, by: OrderActor) -> Order:
    """Refund an order that was paid but could not be fulfilled. Safe to call again: the
    gateway call carries an idempotency key, and a failure leaves the order due for a retry."""
    order = Order.objects.get(pk=order_id)
    if order.status != Order.Status.REFUND_DUE:
        return order
    try:
        reference = get_gateway(order.gateway).refund(
            order=order, idempotency_key=f"haat-order-{order.pk}-refund"
        )
    except GatewayError:
        log.exception("Refund of order %s failed; it stays due for a retry", order.pk)
        metrics.count_now(metrics.REFUNDS, outcome="failed")
        return order
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status == Order.Status.REFUND_DUE:
            # The shopper is told why: the stock went, or the voucher's last use did.
            due = order.events.filter(to_status=Order.Status.REFUND_DUE).last()
            voucher_gone = due is not None and due.reason == Reason.PAID_TOO_LATE_VOUCHER
            order_status_change(
                order,
                to_status=Order.Status.REFUNDED,
                reason=Reason.REFUNDED_VOUCHER if voucher_gone else Reason.REFUNDED,
                by=by,
                data={"refund_reference": reference[:255]},
                refund_reference=reference[:255],
            )
            metrics.count(metrics.REFUNDS, outcome="done")
            order_mail_queue(order=order, kind=OrderMail.Kind.REFUND)
        return order


def order_settle(*, order_id: int, by: OrderActor) -> Order:
    """After a payment outcome: carry out any refund that became due."""
    order = Order.objects.get(pk=order_id)
    if order.status == Order.Status.REFUND_DUE:
        order = order_refund(order_id=order_id, by=by)
    return order


def checkout_confirm(*, order: Order) -> Order:
    """The success page (the shopper's visit): look the payment up and fulfil, in case the
    event is late."""
    by = OrderActor.shopper(order.user_id)
    if order.status not in {Order.Status.PENDING, Order.Status.CANCELLED}:
        return order_settle(order_id=order.pk, by=by)
    if not order.payment_session_id:
        return order
    try:
        state = get_gateway(order.gateway).retrieve_session(order.payment_session_id)
    except GatewayError:
        return order  # the webhook will settle it
    if state.payment_status != "paid":
        return order_settle(order_id=order.pk, by=by)
    return _fulfil_matching_session(order, state, by=by)


def _fulfil_matching_session(order: Order, state: SessionState, *, by: OrderActor) -> Order:
    """Fulfil ``order`` from the gateway's paid ``state``, unless the two differ (amount,
    currency, session, order): such a payment is left for staff, whose admin shows the
    gateway's paid event for it as a mismatch."""
    mismatch = payment_mismatches(
        order,
        gateway_name=order.gateway,
        order_id=state.order_id,
        amount_minor=state.amount_minor,
        currency=state.currency,
        session_id=state.id,
        payment_reference=state.payment_reference,
    )
    if mismatch:
        log.warning("Session %s does not match order %s: %s", state.id, order.pk, mismatch)
        return order
    order_fulfil(order_id=order.pk, by=by, payment_reference=state.payment_reference)
    return order_settle(order_id=order.pk, by=by)


def reservations_release_expired(
    *,
    now: datetime | None = None,
    product_ids: list[int] | None = None,
    user_id: int | None = None,
    limit: int = 500,
    by: OrderActor = BY_TASK,
) -> int:
    """End reservations past their expiry that no event closed, each as the gateway says
    (see ``order_expire``). Returns how many ended. ``by``: the periodic job, unless a
    checkout runs it on its way (``BY_SYSTEM``)."""
    now = now or timezone.now()
    expired = Reservation.objects.filter(status=Reservation.Status.ACTIVE, expires_at__lte=now)
    if product_ids:
        expired = expired.filter(order__lines__product_ref__in=product_ids)
    if user_id is not None:
        expired = expired.filter(order__user_id=user_id)
    order_ids = list(expired.values_list("order_id", flat=True).distinct()[:limit])
    ended = 0
    for order_id in order_ids:
        order = _each_order(order_expire, order_id=order_id, now=now, by=by)
        ended += order is not None and order.status != Order.Status.PENDING
        if order is not None and order.status == Order.Status.CANCELLED:
            metrics.count(metrics.RESERVATIONS, event="expired")
    return ended


# --- Expiry and reconciliation with the gateway (the periodic jobs in checkout.tasks) ----------
#
# A reservation running out does not prove the shopper did not pay: the paid event may have
# been lost (a worker or the database died between the gateway taking the money and the order
# being fulfilled). So nothing that cancels for expiry does so before the gateway confirms the
# session was not paid, and cancelled orders whose session could have been paid are asked about
# once more when the session's time is up. Every step re-checks the order under its row lock
# (order_fulfil, order_cancel), so two workers running the same job change each order once.


def _each_order(step: Callable[..., Order], **kwargs: Any) -> Order | None:
    """Run one order's step of a periodic job; a surprise on one order must not hold up the
    others (a database outage still ends the run, so the task retries)."""
    try:
        return step(**kwargs)
    except DatabaseError:
        raise
    except Exception:
        log.exception("Background step %s failed for %s; the others go on", step.__name__, kwargs)
        return None


def _session_state(order: Order) -> SessionState:
    """The gateway's word on the order's session, whose time is up: an open one is expired first
    (so no payment can slip in after this answer), then asked about again."""
    try:
        gateway = get_gateway(order.gateway)
    except ImproperlyConfigured as error:  # e.g. Stripe's keys were removed since
        raise GatewayError(
            reason="The order's payment gateway is not configured.", error=str(error)
        ) from error
    state = gateway.retrieve_session(order.payment_session_id)
    if state.status == "open" and state.payment_status != "paid":
        gateway.expire_session(order.payment_session_id)
        state = gateway.retrieve_session(order.payment_session_id)
    if state.order_id is not None and state.order_id != order.pk:
        raise GatewayError(
            reason="The payment session belongs to another order.", order_id=order.pk
        )
    return state


def _fulfil_paid(order: Order, state: SessionState, *, by: OrderActor) -> Order:
    log.warning(
        "Order %s was paid at the gateway but never fulfilled (a lost payment event); "
        "fulfilling it now",
        order.number,
    )
    return _fulfil_matching_session(order, state, by=by)


def _session_closed(order: Order, *, by: OrderActor) -> None:
    """The gateway said the session expired: mark it (once; the event only if this marked it)."""
    with transaction.atomic():
        closed = Order.objects.filter(pk=order.pk, payment_session_closed_at__isnull=True).update(
            payment_session_closed_at=timezone.now()
        )
        if closed:
            order = Order.objects.get(pk=order.pk)
            order_event_record(order, reason=Reason.SESSION_CLOSED, by=by, from_status=order.status)


def order_expire(*, order_id: int, now: datetime | None = None, by: OrderActor = BY_TASK) -> Order:
    """A pending order whose reservation ran out, settled as the gateway says: paid → fulfilled
    (or refunded, if the stock went meanwhile); not paid → session expired, order cancelled,
    stock back. If the gateway cannot be asked, the stock stays held and the next run asks
    again, but for at most ``RESERVATION_GATEWAY_GRACE_MINUTES`` past the expiry; then it is
    released and ``order_recheck_payment`` keeps asking."""
    now = now or timezone.now()
    order = Order.objects.select_related("reservation").get(pk=order_id)
    if order.status != Order.Status.PENDING:
        return order
    if not order.payment_session_id:  # the payment page never opened: nothing to ask about
        return order_cancel(order_id=order.pk, reason=Reason.RESERVATION_EXPIRED, by=by)
    past_grace = now - order.reservation.expires_at >= timedelta(
        minutes=settings.RESERVATION_GATEWAY_GRACE_MINUTES
    )
    try:
        state = _session_state(order)
    except GatewayError as error:
        if not past_grace:
            log.warning(
                "Order %s expired; the gateway did not answer (%s): asking again later",
                order.number,
                error,
            )
            return order
        log.warning(
            "Order %s expired and the gateway has not answered for %s minutes: releasing its stock",
            order.number,
            settings.RESERVATION_GATEWAY_GRACE_MINUTES,
        )
        return order_cancel(
            order_id=order.pk, reason=Reason.RESERVATION_EXPIRED_GATEWAY_AWAY, by=by
        )
    if state.payment_status == "paid":
        return _fulfil_paid(order, state, by=by)
    if state.status == "expired":
        order = order_cancel(order_id=order.pk, reason=Reason.RESERVATION_EXPIRED, by=by)
        _session_closed(order, by=by)
        return order
    # Still open, or complete with a delayed payment method not settled yet: wait, within bounds.
    if past_grace:
        return order_cancel(
            order_id=order.pk, reason=Reason.RESERVATION_EXPIRED_GATEWAY_AWAY, by=by
        )
    return order


def order_recheck_payment(*, order_id: int, by: OrderActor = BY_TASK) -> Order:
    """A cancelled order whose session's time is up, asked about once more: a payment that
    went through anyway (its event lost, or the stock released while the gateway was away) is
    fulfilled if the stock is still there, else refunded. Once the gateway says the session
    expired, the order is marked so and never asked about again."""
    order = Order.objects.get(pk=order_id)
    if (
        order.status != Order.Status.CANCELLED
        or order.payment_session_closed_at is not None
        or not order.payment_session_id
    ):
        return order
    try:
        state = _session_state(order)
    except GatewayError as error:
        log.info(
            "Could not ask the gateway about cancelled order %s (%s); later", order.number, error
        )
        return order
    if state.payment_status == "paid":
        return _fulfil_paid(order, state, by=by)
    if state.status == "expired":
        _session_closed(order, by=by)
    return Order.objects.get(pk=order_id)


def order_check_paid(*, order_id: int) -> Order:
    """A pending order whose reservation still holds, asked about: fulfilled if the gateway
    says its session was paid (the payment's event was lost, say a node died between the
    gateway's answer and the fulfilment, and the shopper never came back to the success page).
    Only asks: the session stays open, as the shopper may still be paying."""
    order = Order.objects.get(pk=order_id)
    if order.status != Order.Status.PENDING or not order.payment_session_id:
        return order
    try:
        state = get_gateway(order.gateway).retrieve_session(order.payment_session_id)
    except (GatewayError, ImproperlyConfigured) as error:
        log.info(
            "Could not ask the gateway about pending order %s (%s); later", order.number, error
        )
        return order
    if state.payment_status != "paid" or state.order_id not in {None, order.pk}:
        return order
    log.warning(
        "Order %s is paid at the gateway but not fulfilled (its payment event was lost, or is "
        "just arriving); fulfilling it now",
        order.number,
    )
    return _fulfil_matching_session(order, state, by=BY_TASK)


def _ids_with_a_session(orders: QuerySet[Order], limit: int) -> list[int]:
    """The first ``limit`` of ``orders`` (oldest first) that have a payment session to ask about."""
    return list(
        orders.exclude(payment_session_id="").order_by("pk").values_list("pk", flat=True)[:limit]
    )


def payment_sessions_reconcile(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Bring orders in line with what the gateway knows: pending orders whose reservation
    still holds (paid → fulfilled now, not at the expiry), expired pending orders (as
    ``reservations_release_expired``), and cancelled orders placed within
    ``PAYMENT_RECONCILE_HOURS`` whose session's time is up and was not yet seen closed."""
    now = now or timezone.now()
    holding = _ids_with_a_session(
        Order.objects.filter(
            status=Order.Status.PENDING,
            reservation__status=Reservation.Status.ACTIVE,
            reservation__expires_at__gt=now,
        ),
        limit,
    )
    found_paid = 0
    for order_id in holding:
        order = _each_order(order_check_paid, order_id=order_id)
        found_paid += order is not None and order.status != Order.Status.PENDING
    ended = reservations_release_expired(now=now, limit=limit)
    order_ids = _ids_with_a_session(
        Order.objects.filter(
            status=Order.Status.CANCELLED,
            payment_session_closed_at__isnull=True,
            created_at__gte=now - timedelta(hours=settings.PAYMENT_RECONCILE_HOURS),
            reservation__expires_at__lte=now,
        ),
        limit,
    )
    recovered = 0
    for order_id in order_ids:
        order = _each_order(order_recheck_payment, order_id=order_id)
        recovered += order is not None and order.status != Order.Status.CANCELLED
    return {
        "paid_found": found_paid,
        "expired": ended,
        "rechecked": len(order_ids),
        "recovered": recovered,
    }


def refunds_retry_due(*, limit: int = 200) -> int:
    """Try again every refund that is due (the gateway failed before). Returns how many went
    through; the idempotency key makes a repeat harmless."""
    refunded = 0
    order_ids = list(
        Order.objects.filter(status=Order.Status.REFUND_DUE)
        .order_by("updated_at")
        .values_list("pk", flat=True)[:limit]
    )
    for order_id in order_ids:
        order = _each_order(order_refund, order_id=order_id, by=BY_TASK)
        refunded += order is not None and order.status == Order.Status.REFUNDED
    return refunded
