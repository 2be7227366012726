"""/api/checkout: re-check, reserve, and open the payment session."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.decorators import decorate_view
from pydantic import Field, StrictInt, model_validator

from checkout import services
from checkout.views import checkout_urls
from haat.limits import rate_limit
from haat.schemas import ProductId, StrictSchema, shopper_id

router = Router(tags=["checkout"])


class BuyNowIn(StrictSchema):
    product_id: ProductId
    quantity: StrictInt


class DeliveryIn(StrictSchema):
    name: str = Field(min_length=1, max_length=150)
    phone: str = Field(pattern=r"^\+?[0-9][0-9 \-]{6,18}[0-9]$")
    address: str = Field(min_length=5, max_length=500)
    city: str = Field(min_length=1, max_length=80)


class CheckoutIn(StrictSchema):
    product_ids: list[ProductId] | None = Field(default=None, max_length=500)
    buy_now: BuyNowIn | None = None
    delivery: DeliveryIn | None = Field(default=None, description="Where the parcel goes")

    @model_validator(mode="after")
    def one_source(self) -> CheckoutIn:
        if self.product_ids is not None and self.buy_now is not None:
            raise ValueError("Send either product_ids (cart lines) or buy_now, not both.")
        return self


class CheckoutOut(Schema):
    order_id: int
    order_number: str
    payment_url: str
    expires_at: datetime


@router.post("", response=CheckoutOut, summary="Start checkout: re-check stock, reserve, pay")
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
        **selection,
    )
    return {
        "order_id": order.pk,
        "order_number": order.number,
        "payment_url": request.build_absolute_uri(order.payment_url),
        "expires_at": order.reservation.expires_at,
    }
