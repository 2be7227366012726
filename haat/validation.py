"""The rules for the values shoppers send, each written once.

HTML forms (``haat.forms``, the apps' Django forms) and the API's schemas (``haat.schemas``)
both use these, and the OpenAPI document shows the same bounds and patterns, so a value is
accepted or refused alike everywhere. A refusal raises ``InvalidInput`` (or a subclass): its
message is a field rule's own wording or the catalogue's (``haat.errors.MESSAGES``); nothing
has been changed when it is raised.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError

from haat.errors import InvalidInput, InvalidQuantity, TotalTooLarge, message

# Ids are positive 64-bit integers (PostgreSQL's bigint); longer numbers cannot name anything.
MAX_ID = 2**63 - 1
# The largest amount of money (minor units) an order can record: its total is a bigint too.
MAX_MONEY = 2**63 - 1

# Only ASCII digits: str.isdigit() also accepts "²" and "④", which int() refuses, and int()
# itself accepts "١٢" (Arabic-Indic digits), " 12", "+12" and "1_2".
ID_DIGITS = re.compile(r"[0-9]{1,19}")
_QUANTITY_TEXT = re.compile(r"[0-9]{1,9}")

# C0 and C1 control characters other than tab and line breaks never belong in shop text
# (PostgreSQL refuses NUL outright; the others corrupt pages, logs, e-mails and labels).
_CONTROL = r"\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F"
# Blank characters: a field of only these is empty.
_BLANK = r" \t\n\r\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
_CONTROL_CHARACTER = re.compile(f"[{_CONTROL}]")
CONTROL_CHARACTER_MESSAGE = "Remove the control characters (such as NUL) from this text."


def text_pattern(*, min_visible: int = 0) -> str:
    """The regular expression (ECMAScript and Python alike, for OpenAPI) of acceptable text:
    no control characters, and at least ``min_visible`` characters that are not blank."""
    text = f"[^{_CONTROL}]*"
    if min_visible == 0:
        return f"^{text}$"
    return f"^(?:[{_BLANK}]*[^{_BLANK}{_CONTROL}]){{{min_visible}}}{text}$"


def text_problem(value: str, *, min_visible: int = 0, too_short: str = "") -> str:
    """What is wrong with ``value`` as shop text ("" when nothing is)."""
    if _CONTROL_CHARACTER.search(value):
        return CONTROL_CHARACTER_MESSAGE
    if not re.fullmatch(text_pattern(min_visible=min_visible), value):
        return too_short or f"Enter at least {min_visible} characters."
    return ""


def collapse_blanks(value: str) -> str:
    return " ".join(value.split())


@dataclass(frozen=True)
class TextRule:
    """One text field's rule, shared by its Django form field and its API schema field: checked
    on the text as sent (blanks around it allowed), then normalised for storing."""

    max_length: int
    min_visible: int = 1
    too_short: str = ""
    # A stricter pattern of the field's own (e.g. a phone number), and its message.
    pattern: str = ""
    mismatch: str = ""
    normalise: Callable[[str], str] = collapse_blanks

    @property
    def schema_pattern(self) -> str:
        return self.pattern or text_pattern(min_visible=self.min_visible)

    def problem(self, value: str) -> str:
        """What is wrong with ``value`` ("" when nothing is); the length is checked apart."""
        if self.pattern:
            return "" if re.fullmatch(self.pattern, value) else self.mismatch
        return text_problem(value, min_visible=self.min_visible, too_short=self.too_short)

    def django_validator(self, value: str) -> None:
        problem = self.problem(value)
        if problem:
            raise ValidationError(problem, code="invalid_text")


def clean_text(value: object, *, max_length: int, what: str) -> str:
    """A free-text parameter (e.g. a search) checked against the text rule and its length."""
    text = "" if value is None else str(value)
    if len(text) > max_length:
        raise InvalidInput(
            message_key="invalid_request.too_long",
            what=what,
            max_length=max_length,
            length=len(text),
        )
    problem = text_problem(text)
    if problem:
        raise InvalidInput(problem=problem)
    return text


def quantity_message() -> str:
    return message("invalid_quantity", max_quantity=settings.CART_MAX_LINE_QUANTITY)


def validate_quantity(quantity: object) -> int:
    """A line's quantity: a whole number from 1 to CART_MAX_LINE_QUANTITY."""
    limit = settings.CART_MAX_LINE_QUANTITY
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= limit:
        raise InvalidQuantity(quantity=str(quantity)[:20], max_quantity=limit)
    return quantity


def parse_quantity(value: object) -> int:
    """A quantity typed into a form: ASCII digits only, then the quantity rule."""
    text = "" if value is None else str(value).strip()
    if not _QUANTITY_TEXT.fullmatch(text):
        raise InvalidQuantity(quantity=text[:20], max_quantity=settings.CART_MAX_LINE_QUANTITY)
    return validate_quantity(int(text))


def parse_id(value: object, *, message_key: str) -> int:
    """An id sent as text: ASCII digits naming a positive 64-bit integer. ``message_key`` says
    what the id names (``invalid_product_id``, ``invalid_order_id``)."""
    text = "" if value is None else str(value).strip()
    if not ID_DIGITS.fullmatch(text) or not 1 <= int(text) <= MAX_ID:
        raise InvalidInput(message_key=message_key, value=text[:20])
    return int(text)


def validate_total(total_minor: int) -> int:
    """An order's total must fit the database (a bigint of minor units): beyond it the order
    could not be written, so the checkout is refused before anything is."""
    if total_minor > MAX_MONEY:
        raise TotalTooLarge(total_minor=str(total_minor))
    return total_minor
