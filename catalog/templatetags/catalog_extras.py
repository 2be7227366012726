"""Template helpers for the catalogue; decisions stay in ``catalog.selectors``."""

from django import template

from catalog.models import Product
from catalog.selectors import Availability, availability

register = template.Library()


@register.filter(name="availability")
def availability_filter(product: Product) -> Availability:
    return availability(stock=product.stock, is_published=product.is_published)
