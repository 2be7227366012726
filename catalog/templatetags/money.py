"""``{{ product.price_minor|money }}`` renders an amount in the shop's currency."""

from django import template

from catalog.money import format_money

register = template.Library()


@register.filter(name="money")
def money(amount_minor: int | None) -> str:
    return format_money(amount_minor)
