"""/api/products: what the page's JavaScript is told about a product's availability."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Path, Router, Schema
from pydantic import Field

from catalog import selectors
from haat.errors import ProductNotFound
from haat.schemas import INVALID_REQUEST, READ, PathProductId, answers, refusal

router = Router(tags=["catalog"])


class AvailabilityOut(Schema):
    """Decided on the server (catalog/availability.py); clients show it as given."""

    code: Literal["in_stock", "low_stock", "out_of_stock", "unavailable"]
    message: str = Field(description="What to tell the shopper, in their language")
    stock: int = Field(description="Units on sale now (0 when unavailable)")
    max_quantity: int = Field(description="Most units one cart line may hold now")
    can_buy: bool


@router.get(
    "/{product_id}/availability",
    **answers(AvailabilityOut, *READ, INVALID_REQUEST, refusal(ProductNotFound)),
    summary="A product's availability now",
)
def product_availability(request: HttpRequest, product_id: Path[PathProductId]) -> dict[str, Any]:
    return selectors.product_availability(product_id=product_id).as_data()
