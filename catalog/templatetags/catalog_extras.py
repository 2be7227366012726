"""Template helpers for the catalogue; decisions stay in ``catalog.availability``."""

from collections.abc import Iterable

from django import template
from django.template import Context
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from catalog import cached, selectors
from catalog.availability import LOW_STOCK, Availability, availability_codes, availability_of
from catalog.forms import ListingForm
from catalog.images import SLOT_SIZES, ImageSources, image_sources, line_image_sources
from catalog.models import Product, ProductImage
from catalog.selectors import ListingRow

CARD_TEMPLATE = "catalog/_product_card.html"
IMAGE_TEMPLATE = "catalog/includes/product_image.html"
CONTROLS_TEMPLATE = "catalog/_listing_controls.html"

register = template.Library()


@register.filter(name="availability")
def availability_filter(product: Product) -> Availability:
    return availability_of(stock=product.stock, is_published=product.is_published)


@register.simple_tag(takes_context=True)
def product_cards(context: Context, rows: Iterable[ListingRow], eager_first: int = 0) -> str:
    """``{% product_cards page.object_list eager_first=4 %}``: each listed product's card
    (catalog/_product_card.html), as the include would render it, kept in the shared cache. A
    card's key holds everything it shows that can change: the product's version
    (``updated_at``), its price, list price and availability (read live by the listing's query),
    the language, the heading level, whether its image loads at once (the first ``eager_first``,
    above the fold) and the markup of the card and its image. Only the cards missing there are
    drawn, from products made of their rows, with their images read in one query."""
    engine = context.template.engine  # type: ignore[union-attr]
    template = engine.get_template(CARD_TEMPLATE)
    image_source = engine.get_template(IMAGE_TEMPLATE).source
    markup = _MARKUP.get((template.source, image_source))
    if markup is None:
        markup = _MARKUP[template.source, image_source] = cached.source_version(
            template.source + image_source
        )
    items = list(rows)
    # What every card's key ends with; and which cards load their image at once.
    tail = f":{get_language()}:{context.get('card_heading', '')}:"
    eager_tail, lazy_tail = f"{tail}True:{markup}", f"{tail}False:{markup}"
    codes = availability_codes((row.stock, row.is_published) for row in items)
    keys = {
        n: (
            f"catalog:card:{row.pk}:{row.updated_at.timestamp()}:{row.price_minor}:"
            f"{row.list_price_minor}:{row.stock if code == LOW_STOCK else code}"
            f"{eager_tail if n < eager_first else lazy_tail}"
        )
        for n, (row, code) in enumerate(zip(items, codes, strict=True))
    }
    products: dict[int, Product] = {}

    def prepare(missing: list[int]) -> None:
        products.update((n, items[n].product()) for n in missing)
        selectors.listing_images_load(list(products.values()))

    def render(n: int) -> str:
        with context.push(product=products[n], eager=n < eager_first):
            return template.render(context)

    cards = cached.cached_many(keys, render, prepare=prepare)
    return mark_safe("".join(cards.values()))  # noqa: S308 (rendered above)


# The fingerprint of the card's and its image's markup, by their sources.
_MARKUP: dict[tuple[str, str], str] = {}


# Rendered sort-and-filter controls per language, search words and asked values: the same for
# every shopper who asks the same (the default controls, nearly always). Each process keeps the
# latest few hundred; building them through the form widgets' templates cost a category page
# a tenth of its time.
_CONTROLS: dict[tuple[object, ...], str] = {}
_CONTROLS_KEPT = 256


@register.simple_tag(takes_context=True)
def listing_controls(context: Context) -> str:
    """``{% listing_controls %}``: catalog/_listing_controls.html for the page's
    ``listing_form`` and ``query``, as the include would render it."""
    form = context["listing_form"]
    query = context.get("query") or ""
    key = (get_language(), query, *(form.data.get(name) for name in ListingForm.base_fields))
    html = _CONTROLS.get(key)
    if html is None:
        engine = context.template.engine  # type: ignore[union-attr]
        html = engine.get_template(CONTROLS_TEMPLATE).render(context)
        if len(_CONTROLS) >= _CONTROLS_KEPT:
            oldest = next(iter(_CONTROLS), None)
            if oldest is not None:
                _CONTROLS.pop(oldest, None)  # another thread may have taken it: no KeyError
        _CONTROLS[key] = html
    return mark_safe(html)  # noqa: S308 (rendered by the template, which escapes)


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
