"""Pieces shared by the API schemas: the field types (built from haat.validation, so the API,
the HTML forms and the OpenAPI document agree) and the documented error answers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Schema
from ninja.errors import AuthenticationError
from ninja.responses import NinjaJSONEncoder
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, StrictInt
from pydantic_core import PydanticCustomError

from haat.errors import HTTP_ERRORS, DomainError
from haat.validation import ID_DIGITS, MAX_ID, TextRule, quantity_message


def _whole_number(value: object) -> object:
    """JSON has one kind of number: 2.0 is the integer 2 (JSON Schema's "integer" agrees), while
    1.5, "2" and true are not integers and stay refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _path_id(value: object) -> object:
    # In a URL the id is text: ASCII digits only (no "+1", " 1", "1.0" or "1_0").
    if isinstance(value, str):
        if not ID_DIGITS.fullmatch(value):
            raise PydanticCustomError("int_parsing", "Input should be a whole number")
        return int(value)
    return value


# The bounds come before the parsers, so they wrap the bounded type (and reach the document).
ProductId = Annotated[StrictInt, Field(ge=1, le=MAX_ID), BeforeValidator(_whole_number)]
PathId = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(_path_id)]
# One id rule, named for what the id names.
PathProductId = PathId
PathOrderId = PathId
Quantity = Annotated[
    StrictInt,
    Field(ge=1, le=settings.CART_MAX_LINE_QUANTITY, description=quantity_message()),
    BeforeValidator(_whole_number),
]


def rule_text(rule: TextRule) -> Any:
    """A string field checked by ``rule`` (the same rule as the HTML form's field), its pattern
    and bounds shown in the OpenAPI document."""

    def check(value: str) -> str:
        problem = rule.problem(value)
        if problem:
            raise PydanticCustomError("invalid_text", problem)
        return rule.normalise(value)

    return Annotated[
        str,
        Field(
            min_length=rule.min_visible,
            max_length=rule.max_length,
            json_schema_extra={"pattern": rule.schema_pattern},
        ),
        AfterValidator(check),
    ]


class StrictSchema(Schema):
    model_config = ConfigDict(extra="forbid")


class Money(Schema):
    amount: int = Field(description="In minor units, e.g. paisa")
    currency: str


def money(amount_minor: int) -> dict[str, object]:
    return {"amount": amount_minor, "currency": settings.SHOP_CURRENCY}


def answer_as_built(data: dict[str, Any]) -> HttpResponse:
    """A 200 of ``data``, built field by field in its response schema's shape and order from
    values that already have its types, written as Ninja writes a validated answer but without
    validating it again (through Ninja's ORM getter, that cost an add to cart a fifth of its
    CPU). Tests compare both writings of the same answers."""
    return HttpResponse(
        json.dumps(data, cls=NinjaJSONEncoder), content_type="application/json; charset=utf-8"
    )


def shopper_id(request: HttpRequest) -> int:
    """The signed-in user's id (the API's auth has already refused anonymous calls)."""
    if not request.user.is_authenticated:
        raise AuthenticationError()
    return int(request.user.pk)


# --- Errors -------------------------------------------------------------------------------


class Error(Schema):
    """Every refusal and failure under /api/ has this shape."""

    code: str = Field(description="Stable, for programs: e.g. insufficient_stock")
    message: str = Field(description="For people; may change")
    details: dict[str, Any] = Field(description="Facts about the refusal, per code")


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str


def refusal(error: type[DomainError]) -> Refusal:
    return Refusal(error.http_status, error.code)


NOT_AUTHENTICATED = Refusal(401, "not_authenticated")
CSRF_FAILED = Refusal(403, "csrf_failed")
INVALID_REQUEST = Refusal(400, "invalid_request")
INVALID_QUANTITY = Refusal(400, "invalid_quantity")
MALFORMED_JSON = Refusal(400, "malformed_json")
PAYLOAD_TOO_LARGE = Refusal(413, HTTP_ERRORS[413][0])
RATE_LIMITED = Refusal(429, HTTP_ERRORS[429][0])
STORE_BUSY = Refusal(503, "store_busy")
SERVER_ERROR = Refusal(500, HTTP_ERRORS[500][0])

# What any call can answer, what a write adds, and what a JSON body adds.
READ = (NOT_AUTHENTICATED, SERVER_ERROR)
WRITE = (*READ, CSRF_FAILED, RATE_LIMITED, STORE_BUSY)
BODY = (INVALID_REQUEST, MALFORMED_JSON, PAYLOAD_TOO_LARGE)


def answers(ok: Any, *refusals: Refusal) -> dict[str, Any]:
    """The ``response`` and OpenAPI descriptions of an operation: its success schema, and for
    each error status the shared ``Error`` schema with the codes it can carry."""
    codes: dict[int, list[str]] = {}
    for each in refusals:
        if each.code not in codes.setdefault(each.status, []):
            codes[each.status].append(each.code)
    return {
        "response": {200: ok, **dict.fromkeys(codes, Error)},
        "openapi_extra": {
            "responses": {
                status: {"description": "Error codes: " + ", ".join(names)}
                for status, names in sorted(codes.items())
            }
        },
    }
