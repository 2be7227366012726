"""What a checkout would buy right now: the selected cart lines, or one Buy Now item, each
checked against current stock. Prices always come from the store, never from the client."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cached_property

from django.conf import settings
from django.utils import timezone

from catalog.availability import UNAVAILABLE, Availability, availability_of
from catalog.money import format_money
from checkout.models import Voucher, VoucherRedemption
from haat.errors import (
    LINE_MESSAGES,
    DomainError,
    InsufficientStock,
    ProductNotFound,
    ShortItem,
    VoucherExpired,
    VoucherLimitPerShopper,
    VoucherNotYetValid,
    VoucherRefused,
    VoucherUnknown,
    VoucherUsedUp,
)
from haat.store import get_store
from haat.validation import validate_quantity, validate_total
from orders.models import DeliveryZone


class EmptySelection(DomainError):
    """None of the chosen products is (still) in the cart."""

    code = "empty_selection"
    http_status = 409


class QuantityLimitExceeded(DomainError):
    """More units of one product than one order may hold (CHECKOUT_MAX_UNITS_PER_PRODUCT)."""

    code = "quantity_limit_exceeded"
    http_status = 409


class LineProblem(StrEnum):
    """Why one line of a checkout cannot be bought as it is (its message: haat.errors)."""

    UNAVAILABLE = "unavailable"  # removed or unpublished
    OVER_LIMIT = "over_limit"  # more than one order may hold
    SHORT = "short"  # more than there is


# The checkout's refusals whose message shows money (formatted by catalog.money, in the
# language active when the message is read); their messages are in haat.errors.MESSAGES.


class TotalChanged(DomainError):
    """The total worked out now differs from the one the shopper was shown (another zone was
    picked, a price changed): nothing is placed until they have seen the new one."""

    code = "total_changed"
    http_status = 409

    def message_values(self) -> dict[str, object]:
        return {"total": format_money(self.details["total_minor"])}


class VoucherBelowMinimum(VoucherRefused):
    code = "voucher_below_minimum"

    def message_values(self) -> dict[str, object]:
        return {**self.details, "min_spend": format_money(self.details["min_spend_minor"])}


class CodAmountLimitExceeded(DomainError):
    """Cash on delivery is for orders up to ``COD_MAX_TOTAL_MINOR`` (or is turned off: 0)."""

    code = "cod_amount_limit_exceeded"
    http_status = 409

    def __init__(self, *, limit_minor: int, **details: object) -> None:
        super().__init__(
            message_key="" if limit_minor else "cod_amount_limit_exceeded.off",
            limit_minor=limit_minor,
            **details,
        )

    def message_values(self) -> dict[str, object]:
        return {"limit": format_money(self.details["limit_minor"])}


@dataclass(frozen=True)
class CheckoutItem:
    product_id: int
    name: str
    slug: str
    image_url: str
    unit_price_minor: int
    quantity: int
    stock: int
    is_published: bool
    limit: int  # most units of this product one order may hold

    @cached_property
    def availability(self) -> Availability:
        return availability_of(stock=self.stock, is_published=self.is_published)

    @property
    def available(self) -> int:
        """Units that could be bought now."""
        return self.availability.max_quantity

    @property
    def problem(self) -> LineProblem | None:
        if self.availability.code == UNAVAILABLE:
            return LineProblem.UNAVAILABLE
        if self.quantity > self.limit:
            return LineProblem.OVER_LIMIT
        if self.availability.short_by(self.quantity):
            return LineProblem.SHORT
        return None

    @property
    def problem_message(self) -> str:
        if self.problem is None:
            return ""
        return str(LINE_MESSAGES[self.problem]) % {
            "name": self.name,
            "quantity": self.quantity,
            "limit": self.limit,
            "available": self.available,
        }

    @property
    def line_total_minor(self) -> int:
        return self.unit_price_minor * self.quantity


@dataclass(frozen=True)
class CheckoutPreview:
    """The items and what they come to: every amount computed here, on the server, and
    nowhere else (the order stores these; the gateway charges ``total_minor``)."""

    items: list[CheckoutItem]
    buy_now: bool
    delivery_zone: DeliveryZone | None = None
    voucher: Voucher | None = None

    def __post_init__(self) -> None:
        # Refused here, before anything is written: the order's total must fit the database.
        validate_total(self.subtotal_minor)
        validate_total(self.total_minor)

    @property
    def subtotal_minor(self) -> int:
        return sum(item.line_total_minor for item in self.items)

    @property
    def discount_minor(self) -> int:
        return self.voucher.discount_for(self.subtotal_minor) if self.voucher else 0

    @property
    def delivery_fee_minor(self) -> int:
        if self.delivery_zone is None:
            return 0
        return self.delivery_zone.fee_for(self.subtotal_minor - self.discount_minor)

    @property
    def total_minor(self) -> int:
        return self.subtotal_minor - self.discount_minor + self.delivery_fee_minor

    @property
    def count(self) -> int:
        return sum(item.quantity for item in self.items)

    @property
    def problems(self) -> list[CheckoutItem]:
        return [item for item in self.items if item.problem is not None]

    @property
    def quantities(self) -> dict[int, int]:
        return {item.product_id: item.quantity for item in self.items}


def checkout_preview(
    *,
    user_id: int,
    product_ids: list[int] | None = None,
    buy_now: tuple[int, int] | None = None,
    delivery_zone: DeliveryZone | None = None,
    voucher: Voucher | None = None,
) -> CheckoutPreview:
    """``product_ids`` picks lines of the user's cart; ``buy_now`` is (product id, quantity);
    ``delivery_zone`` is where it goes (``orders.selectors.delivery_zone_choose``)."""
    store = get_store()
    if buy_now is not None:
        wanted = {buy_now[0]: validate_quantity(buy_now[1])}
    else:
        lines = store.cart_get(user_id).lines
        wanted = {pid: lines[pid] for pid in dict.fromkeys(product_ids or []) if pid in lines}
    if not wanted:
        raise EmptySelection()
    limit = settings.CHECKOUT_MAX_UNITS_PER_PRODUCT
    products = store.products(wanted)
    if buy_now is not None and buy_now[0] not in products:
        raise ProductNotFound(product_id=buy_now[0])
    items = []
    for product_id, quantity in wanted.items():
        product = products.get(product_id)
        if product is None:
            items.append(
                CheckoutItem(product_id, "Removed product", "", "", 0, quantity, 0, False, limit)
            )
            continue
        items.append(
            CheckoutItem(
                product_id=product_id,
                name=product.name,
                slug=product.slug,
                image_url=product.image_url,
                unit_price_minor=product.price_minor,
                quantity=quantity,
                stock=product.stock,
                is_published=product.is_published,
                limit=limit,
            )
        )
    return CheckoutPreview(items, buy_now is not None, delivery_zone, voucher)


VOUCHER_CODE = re.compile(r"[A-Za-z0-9_-]{1,40}")


def voucher_find(code: str) -> Voucher:
    """The voucher a shopper typed (any case, blanks around it ignored)."""
    code = code.strip()
    voucher = None
    if VOUCHER_CODE.fullmatch(code):
        voucher = Voucher.objects.filter(code__iexact=code, is_active=True).first()
    if voucher is None:
        raise VoucherUnknown(code=code[:40])
    return voucher


def voucher_uses_refusal(
    voucher: Voucher, *, user_id: int | None, replacing: bool
) -> VoucherRefused | None:
    """Whether one more use of ``voucher`` by this shopper would break its limits (in all, and
    per shopper); None when it would not. ``replacing``: the use comes with a checkout that
    cancels the shopper's unpaid ones, whose uses then come back, so they do not count. Asked
    again under the voucher's row lock before a use is counted."""
    details = {"code": voucher.code}
    active = VoucherRedemption.objects.filter(
        voucher=voucher, status=VoucherRedemption.Status.ACTIVE
    )
    # No shopper (their account was deleted): no per-shopper uses to count.
    mine = active.filter(user_id=user_id) if user_id is not None else active.none()
    replaced = mine.filter(order__status="pending").count() if replacing else 0
    if voucher.max_uses is not None and voucher.uses - replaced >= voucher.max_uses:
        return VoucherUsedUp(**details)
    limit = voucher.max_uses_per_shopper
    if limit is not None and mine.count() - replaced >= limit:
        return VoucherLimitPerShopper(**details, limit=limit)
    return None


def voucher_refusal(
    voucher: Voucher, *, user_id: int, items_minor: int, now: datetime | None = None
) -> VoucherRefused | None:
    """Why ``voucher`` cannot be used by this shopper on items worth ``items_minor`` (None
    when it can). The checkout asks again under the voucher's row lock before it counts a use."""
    now = now or timezone.now()
    details = {"code": voucher.code}
    if now < voucher.starts_at:
        return VoucherNotYetValid(**details, starts_at=voucher.starts_at.isoformat())
    if voucher.ends_at is not None and now >= voucher.ends_at:
        return VoucherExpired(**details)
    # The shopper's unpaid checkouts give their uses back when this one replaces them.
    used_up = voucher_uses_refusal(voucher, user_id=user_id, replacing=True)
    if used_up is not None:
        return used_up
    if items_minor < voucher.min_spend_minor:
        return VoucherBelowMinimum(**details, min_spend_minor=voucher.min_spend_minor)
    return None


def cod_refusal(preview: CheckoutPreview) -> CodAmountLimitExceeded | None:
    """Why this order may not be paid in cash on delivery (None when it may)."""
    limit = settings.COD_MAX_TOTAL_MINOR
    if limit == 0:
        return CodAmountLimitExceeded(limit_minor=0)
    if preview.total_minor > limit:
        return CodAmountLimitExceeded(
            limit_minor=limit,
            total_minor=preview.total_minor,
        )
    return None


# A checkout's refusal for stock names no product: the review page lists each short line.
CHECKOUT_SHORT = "insufficient_stock"


def checkout_refusal(
    preview: CheckoutPreview, *, expected_total_minor: int | None = None
) -> DomainError | None:
    """Why this checkout may not be placed, itemised; None when it may. Lines over the
    per-order limit are refused first: no amount of stock would make them acceptable.
    ``expected_total_minor``: the total the shopper was shown, if known."""
    over = [item for item in preview.problems if item.problem == LineProblem.OVER_LIMIT]
    if over:
        return QuantityLimitExceeded(
            limit=over[0].limit,
            items=[
                {
                    "product_id": item.product_id,
                    "name": item.name,
                    "requested": item.quantity,
                    "limit": item.limit,
                }
                for item in over
            ],
        )
    if preview.problems:
        return InsufficientStock(
            items=[
                ShortItem(item.product_id, item.name, item.quantity, item.available)
                for item in preview.problems
            ],
            message_key=CHECKOUT_SHORT,
        )
    if expected_total_minor is not None and expected_total_minor != preview.total_minor:
        return TotalChanged(
            total_minor=preview.total_minor,
            expected_total_minor=expected_total_minor,
        )
    return None
