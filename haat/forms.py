"""Parsing what plain HTML forms send, with clear refusals (the rules are in haat.validation).

Malformed values raise ``InvalidInput``: views let it through and Django answers its 400 page
with the message. Nothing has been changed by then."""

from __future__ import annotations

from collections.abc import Iterable

from haat.validation import clean_text, parse_id, parse_quantity

SEARCH_MAX_LENGTH = 100


def form_product_id(value: object) -> int:
    return parse_id(value, message_key="invalid_product_id")


def form_order_id(value: object) -> int:
    return parse_id(value, message_key="invalid_order_id")


def form_quantity(value: object) -> int:
    return parse_quantity(value)


def form_product_ids(values: Iterable[object]) -> list[int]:
    """A selection of products (checkboxes): every value must be an id."""
    return list(dict.fromkeys(form_product_id(value) for value in values))


def form_search_query(value: object) -> str:
    return clean_text(value, max_length=SEARCH_MAX_LENGTH, what="A search").strip()
