"""Template helpers for the catalogue; decisions stay in ``catalog.availability``."""

from django import template

from catalog.availability import Availability, availability_of
from catalog.images import SLOT_SIZES, ImageSources, image_sources, line_image_sources
from catalog.models import Product, ProductImage

register = template.Library()


@register.filter(name="availability")
def availability_filter(product: Product) -> Availability:
    return availability_of(stock=product.stock, is_published=product.is_published)


@register.simple_tag
def product_image_sources(image: ProductImage | str = "", url: str = "") -> ImageSources | None:
    """``{% product_image_sources image=image as sources %}`` (a ProductImage) or ``url=...``
    (a line's image URL, as the cart and wishlist have it): the srcsets of its variants
    (catalog.images), or the original alone when it has none."""
    if isinstance(image, ProductImage) and image.image:
        return image_sources(
            str(image.image.name),
            width=image.width,
            height=image.height,
            variant_widths=image.variant_widths if image.variants_of == image.image.name else [],
        )
    if not url:
        return None
    return line_image_sources(url)


@register.simple_tag
def slot_sizes(slot: str) -> str:
    """The ``sizes`` attribute for an image slot (catalog.images.SLOT_SIZES)."""
    return SLOT_SIZES[slot]
