"""Each field has one rule: the HTML form, the API and the OpenAPI document accept and refuse the
same values (checked on random text with hypothesis), and numbers are ASCII digits only."""

from __future__ import annotations

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from checkout.api import DeliveryIn
from checkout.forms import DELIVERY_RULES, DeliveryForm
from haat.errors import InvalidInput, InvalidQuantity
from haat.forms import form_product_id, form_quantity, form_search_query
from haat.schemas import ProductId, Quantity

VALID = {
    "name": "Rina Akter",
    "phone": "01712345678",
    "address": "House 12, Road 5",
    "city": "Dhaka",
}
# Text that hits the rules' edges: controls, blanks of every kind, digits and phone punctuation.
EDGES = st.sampled_from(list("\x00\x07\x0b\x1f\x7f\x85\x9f\t\n\r \u00a0\u2003\u3000+-0123456789aঅ"))
# No lone surrogates: form data is decoded from bytes, and the API refuses them (hostile list).
TEXT = st.lists(st.one_of(EDGES, st.characters(exclude_categories=["Cs"])), max_size=40).map(
    "".join
) | st.text(max_size=12)


@pytest.mark.parametrize(
    "text",
    [
        "²",
        "④",
        "١٢",
        "1.5",
        "1e3",
        "-1",
        "0",
        "",
        " ",
        "+1",
        "1_0",
        "0x1",
        "10001",
        "9" * 30,
        "1\x00",
    ],
)
def test_form_quantities_are_ascii_digits_in_range(text):
    with pytest.raises(InvalidQuantity):
        form_quantity(text)


def test_form_quantities_accepted():
    assert [form_quantity(text) for text in ["1", " 7 ", "10000", "0042"]] == [1, 7, 10000, 42]


@pytest.mark.parametrize(
    "text", ["١", "²", "0", "-1", "+1", "1.0", "1_0", str(2**63), "9" * 30, "", "a"]
)
def test_form_ids_are_ascii_digits_in_range(text):
    with pytest.raises(InvalidInput):
        form_product_id(text)


@pytest.mark.parametrize("text", ["\x00", "rice\x00", "\x1b[2J", "x" * 101])
def test_search_refuses_control_characters_and_overlong_text(text):
    with pytest.raises(InvalidInput):
        form_search_query(text)


def test_search_keeps_ordinary_text():
    assert form_search_query("  চাল  rice\tcooker ") == "চাল  rice\tcooker"


@pytest.mark.parametrize("value", [1, 10_000, 2.0, 1e3])
def test_api_numbers_accept_whole_json_numbers(value):
    assert TypeAdapter(Quantity).validate_python(value) == int(value)


@pytest.mark.parametrize("value", [0, 10_001, 1.5, "1", True, float("inf"), float("nan"), None])
def test_api_quantities_refuse_what_the_document_refuses(value):
    with pytest.raises(ValidationError):
        TypeAdapter(Quantity).validate_python(value)
    with pytest.raises(ValidationError):
        TypeAdapter(ProductId).validate_python(2**63 if value == 10_001 else value)


def _form_answer(field: str, value: str) -> str | None:
    form = DeliveryForm({**VALID, field: value})
    return form.cleaned_data[field] if form.is_valid() else None


def _api_answer(field: str, value: str) -> str | None:
    try:
        return getattr(DeliveryIn.model_validate({**VALID, field: value}), field)
    except ValidationError:
        return None


@pytest.mark.parametrize("field", list(DELIVERY_RULES))
@settings(max_examples=100, deadline=None)
@given(value=TEXT)
def test_form_api_and_document_agree_on_delivery_fields(field, value):
    document = DeliveryIn.model_json_schema()["properties"][field]
    form, api = _form_answer(field, value), _api_answer(field, value)
    assert form == api, (form, api)
    # The document's pattern and bounds, read as JSON Schema (ECMAScript regex), say the same.
    assert jsonschema_rs.is_valid(document, value) == (api is not None)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "a\x00b"),
        ("name", "   "),
        ("city", "\x07"),
        ("address", "a  b  c"),
        ("phone", "017\x0012345678"),
    ],
)
def test_refused_delivery_values(field, value):
    assert _form_answer(field, value) is None
    assert _api_answer(field, value) is None


def test_delivery_values_are_stored_normalised():
    cleaned = DeliveryForm(
        {
            "name": "  Rina   Akter ",
            "phone": " 01712345678 ",
            "address": "House 12,\r\n Road 5",
            "city": "Dhaka ",
        }
    )
    assert cleaned.is_valid(), cleaned.errors
    stored = {
        "name": "Rina Akter",
        "phone": "01712345678",
        "address": "House 12, Road 5",
        "city": "Dhaka",
    }
    assert cleaned.cleaned_data == stored
    assert (
        DeliveryIn.model_validate(
            {
                "name": "  Rina   Akter ",
                "phone": " 01712345678 ",
                "address": "House 12,\r\n Road 5",
                "city": "Dhaka ",
            }
        ).model_dump()
        == stored
    )
