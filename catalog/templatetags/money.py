"""``{{ product.price_minor|money }}`` renders an amount in the shop's currency, ``{{ n|number }}`` a
count, both in the active language's way of writing numbers."""

from django import template

from catalog.money import format_money, format_number

register = template.Library()


@register.filter(name="money")
def money(amount_minor: int | None) -> str:
    return format_money(amount_minor)


@register.filter(name="number")
def number(value: int | None) -> str:
    """``{{ count|number }}``: a count in the active language's digits (১২ in Bangla)."""
    if value is None or value == "":
        return ""
    return format_number(int(value))
