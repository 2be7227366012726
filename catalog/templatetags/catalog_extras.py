"""Template helpers for the catalogue; decisions stay in ``catalog.availability``."""

from django import template

from catalog.availability import Availability, availability_of
from catalog.models import Product

register = template.Library()


@register.filter(name="availability")
def availability_filter(product: Product) -> Availability:
    return availability_of(stock=product.stock, is_published=product.is_published)
