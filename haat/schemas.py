"""Pieces shared by the API schemas."""

from __future__ import annotations

from typing import Annotated

from django.conf import settings
from django.http import HttpRequest
from ninja import Schema
from ninja.errors import AuthenticationError
from pydantic import ConfigDict, Field, StrictInt

# Ids are positive 64-bit integers; anything else is refused before it reaches the database.
ProductId = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
# In a URL the id arrives as text, so it is parsed rather than required to be a JSON number.
PathProductId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class StrictSchema(Schema):
    model_config = ConfigDict(extra="forbid")


class Money(Schema):
    amount: int = Field(description="In minor units, e.g. paisa")
    currency: str


def money(amount_minor: int) -> dict[str, object]:
    return {"amount": amount_minor, "currency": settings.SHOP_CURRENCY}


def shopper_id(request: HttpRequest) -> int:
    """The signed-in user's id (the API's auth has already refused anonymous calls)."""
    if not request.user.is_authenticated:
        raise AuthenticationError()
    return int(request.user.pk)
