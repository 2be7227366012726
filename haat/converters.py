"""URL converters. ``<id:…>`` is a positive 64-bit id: longer numbers cannot name anything, so
they are "not found" rather than reaching the database (where they overflow)."""

from __future__ import annotations

from haat.validation import ID_DIGITS, MAX_ID


class IdConverter:
    regex = ID_DIGITS.pattern

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError(value)  # Django answers 404
        return number

    def to_url(self, value: int) -> str:
        return str(value)
