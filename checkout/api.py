"""/api/checkout: re-check, reserve, and open the payment session."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.decorators import decorate_view
from pydantic import ConfigDict, Field, model_validator

from checkout import services
from checkout.delivery import DELIVERY_RULES
from checkout.links import checkout_urls
from checkout.selectors import (
    CodAmountLimitExceeded,
    EmptySelection,
    QuantityLimitExceeded,
    VoucherBelowMinimum,
)
from checkout.services import CheckoutInProgress, CheckoutReplaced
from haat.errors import (
    DeliveryZoneUnknown,
    InsufficientStock,
    InvalidQuantity,
    ProductNotFound,
    TotalTooLarge,
    VoucherExpired,
    VoucherLimitPerShopper,
    VoucherNotYetValid,
    VoucherUnknown,
    VoucherUsedUp,
)
from haat.limits import rate_limit
from haat.schemas import (
    BODY,
    READ,
    WRITE,
    ProductId,
    Quantity,
    StrictSchema,
    answers,
    refusal,
    rule_text,
    shopper_id,
)
from orders.selectors import delivery_zones
from payments.gateways import GatewayError

router = Router(tags=["checkout"])


class BuyNowIn(StrictSchema):
    product_id: ProductId
    quantity: Quantity


class DeliveryIn(StrictSchema):
    name: rule_text(DELIVERY_RULES["name"])  # type: ignore[valid-type]
    phone: rule_text(DELIVERY_RULES["phone"])  # type: ignore[valid-type]
    address: rule_text(DELIVERY_RULES["address"])  # type: ignore[valid-type]
    city: rule_text(DELIVERY_RULES["city"])  # type: ignore[valid-type]


class CheckoutIn(StrictSchema):
    """Either ``product_ids`` (lines of the cart) or ``buy_now``, never both."""

    model_config = ConfigDict(
        extra="forbid",
        # The same rule as one_source below, for the OpenAPI document.
        json_schema_extra={
            "anyOf": [
                {
                    "required": ["product_ids"],
                    "properties": {"product_ids": {"type": "array"}, "buy_now": {"type": "null"}},
                },
                {
                    "required": ["buy_now"],
                    "properties": {"buy_now": {"type": "object"}, "product_ids": {"type": "null"}},
                },
            ]
        },
    )

    product_ids: list[ProductId] | None = Field(default=None, min_length=1, max_length=500)
    buy_now: BuyNowIn | None = None
    delivery: DeliveryIn | None = Field(default=None, description="Where the parcel goes")
    payment_method: Literal["card", "cod"] = Field(
        default="card", description="card (pay now on the payment page) or cod (cash on delivery)"
    )
    voucher_code: str = Field(default="", max_length=100, description="A voucher code (any case)")
    delivery_zone_id: ProductId | None = Field(
        default=None,
        description="A zone of GET /api/checkout/delivery-zones; without one, the zone of the "
        "shopper's last order, else the one serving delivery.city, else the default zone",
    )

    @model_validator(mode="after")
    def one_source(self) -> CheckoutIn:
        if (self.product_ids is None) == (self.buy_now is None):
            raise ValueError("Send product_ids (cart lines) or buy_now (one product): one of them.")
        return self


class CheckoutOut(Schema):
    order_id: int
    order_number: str
    status: str
    payment_method: str
    payment_url: str = Field(description="Where to pay; empty for cash on delivery")
    expires_at: datetime | None = Field(description="Until when the items are held; null for COD")
    subtotal_minor: int = Field(description="The items, in minor units")
    discount_minor: int = Field(description="A voucher's discount, in minor units")
    delivery_fee_minor: int = Field(description="The delivery fee, in minor units")
    total_minor: int = Field(description="What is charged: items − discount + delivery")
    delivery_zone: str


class DeliveryZoneOut(Schema):
    id: int
    name: str
    fee_minor: int
    free_from_minor: int | None = Field(description="Items total from which delivery is free")


@router.get(
    "/delivery-zones",
    **answers(list[DeliveryZoneOut], *READ),
    summary="Where the shop delivers, and what it costs",
)
def delivery_zone_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "id": zone.pk,
            "name": zone.name,
            "fee_minor": zone.fee_minor,
            "free_from_minor": zone.free_from_minor,
        }
        for zone in delivery_zones()
    ]


@router.post(
    "",
    **answers(
        CheckoutOut,
        *WRITE,
        *BODY,
        refusal(InvalidQuantity),
        refusal(ProductNotFound),
        refusal(EmptySelection),
        refusal(InsufficientStock),
        refusal(QuantityLimitExceeded),
        refusal(CheckoutReplaced),
        refusal(CheckoutInProgress),
        refusal(TotalTooLarge),
        refusal(DeliveryZoneUnknown),
        refusal(VoucherUnknown),
        refusal(VoucherNotYetValid),
        refusal(VoucherExpired),
        refusal(VoucherUsedUp),
        refusal(VoucherLimitPerShopper),
        refusal(VoucherBelowMinimum),
        refusal(CodAmountLimitExceeded),
        refusal(GatewayError),
    ),
    summary="Start checkout: re-check stock, reserve, pay",
)
@decorate_view(rate_limit("checkout"))
def checkout_start(request: HttpRequest, payload: CheckoutIn) -> dict[str, Any]:
    selection: dict[str, Any] = {"product_ids": payload.product_ids or []}
    if payload.buy_now is not None:
        selection = {"buy_now": (payload.buy_now.product_id, payload.buy_now.quantity)}
    urls = checkout_urls(request)
    order = services.checkout_start(
        user_id=shopper_id(request),
        success_url=urls["success_url"],
        cancel_url=urls["cancel_url"],
        delivery=payload.delivery.model_dump() if payload.delivery else None,
        delivery_zone_id=payload.delivery_zone_id,
        voucher_code=payload.voucher_code,
        payment_method=payload.payment_method,
        **selection,
    )
    return {
        "order_id": order.pk,
        "order_number": order.number,
        "status": order.status,
        "payment_method": order.payment_method,
        "payment_url": request.build_absolute_uri(order.payment_url) if order.payment_url else "",
        "expires_at": order.reservation.expires_at if order.payment_url else None,
        "subtotal_minor": order.subtotal_minor,
        "discount_minor": order.discount_minor,
        "delivery_fee_minor": order.delivery_fee_minor,
        "total_minor": order.total_minor,
        "delivery_zone": order.delivery_zone,
    }
