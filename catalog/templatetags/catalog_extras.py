"""Template helpers for the catalogue; decisions stay in ``catalog.availability``."""

from collections.abc import Iterable

from django import template
from django.template import Context
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from catalog import cached
from catalog.availability import Availability, availability_of
from catalog.models import Product

CARD_TEMPLATE = "catalog/_product_card.html"

register = template.Library()


@register.filter(name="availability")
def availability_filter(product: Product) -> Availability:
    return availability_of(stock=product.stock, is_published=product.is_published)


@register.simple_tag(takes_context=True)
def product_cards(context: Context, products: Iterable[Product]) -> str:
    """``{% product_cards page.object_list %}``: each product's card (catalog/_product_card.html),
    as the include would render it, kept in the shared cache. A card's key holds everything it
    shows that can change: the product's version (``updated_at``), its price, list price and
    availability (read live by the listing's query), the language and the card's markup."""
    template = context.template.engine.get_template(CARD_TEMPLATE)  # type: ignore[union-attr]
    language = get_language()
    markup = cached.source_version(template.source)

    def key(product: Product) -> str:
        availability = availability_of(stock=product.stock, is_published=product.is_published)
        shown_stock = product.stock if availability.is_low else availability.code
        return cached.keys_of(
            (
                "catalog:card",
                product.pk,
                product.updated_at.timestamp(),
                product.price_minor,
                product.list_price_minor,
                shown_stock,
                language,
                markup,
            )
        )

    def render(product: Product) -> str:
        with context.push(product=product):
            return template.render(context)

    items = list(products)
    cards = cached.cached_many({product: key(product) for product in items}, render)
    return mark_safe("".join(cards[product] for product in items))  # noqa: S308 (rendered above)
