"""Formatting money kept in minor units, e.g. 125000 BDT paisa → "৳ 1,250"."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


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


def format_money(amount_minor: int | None, currency: Currency | None = None) -> str:
    """Whole amounts drop the decimals ("৳ 1,250"); others keep them ("৳ 1,250.50")."""
    if amount_minor is None:
        return ""
    currency = currency or shop_currency()
    sign = "-" if amount_minor < 0 else ""
    major, minor = divmod(abs(int(amount_minor)), 10**currency.exponent)
    text = f"{major:,}"
    if minor:
        text += f".{minor:0{currency.exponent}d}"
    return f"{sign}{currency.symbol} {text}"
