"""Formatting money kept in minor units, e.g. 125000 BDT paisa → "৳ 1,250" in English and
"৳ ১,২৫০" in Bangla. Numbers are Babel's (CLDR grouping and separators for the language, e.g.
the lakh grouping ১২,৫০,০০০ in Bangla); the symbol always comes first, as Daraz shows it."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal
from django.conf import settings
from django.utils import translation


@dataclass(frozen=True)
class Currency:
    code: str
    symbol: str
    exponent: int  # digits after the decimal point: 2 for paisa/cents, 0 for yen


CURRENCIES = {
    c.code: c
    for c in [
        Currency("BDT", "৳", 2),
        Currency("INR", "₹", 2),
        Currency("PKR", "Rs", 2),
        Currency("NPR", "Rs", 2),
        Currency("LKR", "Rs", 2),
        Currency("USD", "$", 2),
        Currency("EUR", "€", 2),
        Currency("GBP", "£", 2),
        Currency("JPY", "¥", 0),
    ]
}


def shop_currency() -> Currency:
    try:
        return CURRENCIES[settings.SHOP_CURRENCY]
    except KeyError:
        # An unknown code still works: shown by its code, with two decimals.
        return Currency(settings.SHOP_CURRENCY, settings.SHOP_CURRENCY, 2)


# Babel gives a locale's grouping and symbols but writes Latin digits; these locales' own
# numbering systems are written with their own digits.
NATIVE_DIGITS = {"beng": str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯")}


@functools.lru_cache(maxsize=16)
def _babel_locale(language: str) -> Locale:
    try:
        return Locale.parse(language.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return Locale.parse("en")


def format_number(value: int | Decimal, *, fraction_digits: int = 0, language: str = "") -> str:
    """A number in the language's way of writing numbers (the active language by default)."""
    return _format_number(
        value, fraction_digits, language or translation.get_language() or settings.LANGUAGE_CODE
    )


# Pages show the same prices and counts over and over, and Babel takes tens of microseconds
# for each: the texts are kept (a few thousand, per process).
@functools.lru_cache(maxsize=8192)
def _format_number(value: int | Decimal, fraction_digits: int, language: str) -> str:
    locale = _babel_locale(language)
    pattern = "#,##0" + ("." + "0" * fraction_digits if fraction_digits else "")
    # The locale's own pattern decides the grouping (#,##,##0 in Bangla): keep its integer part.
    own = locale.decimal_formats[None].pattern.split(";")[0].split(".")[0]
    if "," in own:
        pattern = own + pattern[len("#,##0") :]
    text = format_decimal(value, format=pattern, locale=locale)
    digits = NATIVE_DIGITS.get(locale.default_numbering_system)
    return text.translate(digits) if digits else text


def format_money(
    amount_minor: int | None, currency: Currency | None = None, *, language: str = ""
) -> str:
    """Whole amounts drop the decimals ("৳ 1,250"); others keep them ("৳ 1,250.50")."""
    if amount_minor is None:
        return ""
    currency = currency or shop_currency()
    sign = "-" if amount_minor < 0 else ""
    major, minor = divmod(abs(int(amount_minor)), 10**currency.exponent)
    if minor:
        value = Decimal(major) + Decimal(minor).scaleb(-currency.exponent)
        text = format_number(value, fraction_digits=currency.exponent, language=language)
    else:
        text = format_number(major, language=language)
    return f"{sign}{currency.symbol} {text}"
