"""Parsing what plain HTML forms send, with clear refusals."""

from __future__ import annotations

from collections.abc import Iterable

from haat.errors import InvalidQuantity, ProductNotFound

MAX_ID = 2**63 - 1


def form_product_id(value: object) -> int:
    try:
        product_id = int(str(value))
    except (TypeError, ValueError):
        raise ProductNotFound("That product could not be found.", product_id=str(value)) from None
    if not 1 <= product_id <= MAX_ID:
        raise ProductNotFound("That product could not be found.", product_id=str(value))
    return product_id


def form_quantity(value: object) -> int:
    text = str(value).strip() if value is not None else ""
    if not text.isdigit() or len(text) > 9:
        raise InvalidQuantity("Quantity must be a whole number of at least 1.", quantity=text[:20])
    return int(text)


def form_product_ids(values: Iterable[object]) -> list[int]:
    ids = []
    for value in values:
        try:
            ids.append(form_product_id(value))
        except ProductNotFound:
            continue
    return list(dict.fromkeys(ids))
