"""Product images in the sizes and formats pages draw them at.

Each product image gets, once when it is saved (``catalog.services.product_image_variants_make``),
copies at a few widths in WebP and in JPEG (the fallback for browsers without WebP), stored next
to the original under ``<folder>/variants/``. Pages pick among them with ``srcset`` and ``sizes``
(``catalog/includes/product_image.html``), so a 72 px thumbnail never downloads the full picture.
Nothing here runs while a page is served: the names are worked out, the files already exist.
"""

from __future__ import annotations

import io
import posixpath
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage
from PIL import Image, ImageOps

# Widths drawn for every image (never wider than the original, whose own width is added when it
# is narrower than the widest). 160 serves the 64–96 px cart, wishlist and gallery thumbnails at
# up to 2x; 320 and 480–640 serve product cards and the product page's main image.
VARIANT_WIDTHS = (160, 320, 640)
WEBP_QUALITY = 78
JPEG_QUALITY = 80

# The CSS width each slot draws an image at (site.css), for the browser to choose from srcset
# before it has laid the page out. Cards: two columns on phones, 180–240 px columns otherwise.
SLOT_SIZES = {
    "card": "(max-width: 720px) 50vw, 240px",
    "main": "(max-width: 720px) 100vw, 560px",
    "thumb": "72px",
    "line": "96px",
}


@dataclass(frozen=True)
class Variant:
    width: int
    height: int
    webp_name: str
    fallback_name: str


def variant_name(original_name: str, width: int, extension: str) -> str:
    """Where the ``width`` px copy of ``original_name`` is stored (``products/variants/x-320w.webp``)."""
    folder, filename = posixpath.split(original_name)
    stem = filename.rsplit(".", 1)[0]
    return posixpath.join(folder, "variants", f"{stem}-{width}w.{extension}")


def widths_for(original_width: int) -> list[int]:
    widest = min(original_width, VARIANT_WIDTHS[-1])
    return [width for width in VARIANT_WIDTHS if width < widest] + [widest]


def _flattened(image: Image.Image) -> Image.Image:
    """RGB for JPEG: transparency goes onto white, the colour of the cards behind images."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return image.convert("RGB")


def _encoded(image: Image.Image, image_format: str) -> bytes:
    buffer = io.BytesIO()
    if image_format == "WEBP":
        keep_alpha = image.mode in ("RGBA", "LA")
        image.convert("RGBA" if keep_alpha else "RGB").save(
            buffer, format="WEBP", quality=WEBP_QUALITY
        )
    else:
        _flattened(image).save(
            buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True
        )
    return buffer.getvalue()


@dataclass(frozen=True)
class DrawnVariant:
    width: int
    height: int
    webp: bytes
    fallback: bytes


def variants_draw(original: bytes) -> tuple[int, int, list[DrawnVariant]]:
    """The encoded copies of the picture ``original`` (a file's bytes) at every width pages use,
    narrowest first, with the original's width and height. The same bytes always draw the
    same copies (nothing else is read), so tests draw a picture once however often they save
    it (tests/conftest.py)."""
    opened = Image.open(io.BytesIO(original))
    opened.load()
    picture = ImageOps.exif_transpose(opened)  # phone photos stand the way they were taken
    width, height = picture.size
    drawn = []
    for target in widths_for(width):
        target_height = max(1, round(height * target / width))
        if target == width:  # the original's own width: resizing would redraw the same picture
            resized = picture
        else:
            resized = picture.resize((target, target_height), Image.Resampling.LANCZOS)
        drawn.append(
            DrawnVariant(
                target, target_height, _encoded(resized, "WEBP"), _encoded(resized, "JPEG")
            )
        )
    return width, height, drawn


def variants_render(
    original_name: str, storage: Storage = default_storage
) -> tuple[int, int, list[Variant]]:
    """Draw and store every variant of the stored image ``original_name``; returns the
    original's width and height and the variants, narrowest first."""
    with storage.open(original_name, "rb") as stored:
        original = stored.read()
    width, height, drawn = variants_draw(original)
    variants = []
    for copy in drawn:
        names = []
        for content, extension in ((copy.webp, "webp"), (copy.fallback, "jpg")):
            name = variant_name(original_name, copy.width, extension)
            if storage.exists(name):
                storage.delete(name)  # redrawn: the same name, the new picture
            storage.save(name, ContentFile(content))
            names.append(name)
        variants.append(Variant(copy.width, copy.height, names[0], names[1]))
    return width, height, variants


@dataclass(frozen=True)
class ImageSources:
    """What an <img>/<picture> needs: a fallback src, srcsets per format, the drawn size."""

    src: str
    width: int
    height: int
    webp_srcset: str = ""
    fallback_srcset: str = ""


def image_sources(
    original_name: str,
    *,
    width: int,
    height: int,
    variant_widths: list[int],
    storage: Storage = default_storage,
) -> ImageSources:
    """The sources for a stored image with variants at ``variant_widths`` (none: the original)."""
    if not variant_widths or not width or not height:
        return ImageSources(storage.url(original_name), width or 1, height or 1)
    widths = sorted(variant_widths)

    def srcset(extension: str) -> str:
        return ", ".join(
            f"{storage.url(variant_name(original_name, w, extension))} {w}w" for w in widths
        )

    # The src (for browsers without srcset) is the middle width: enough for a card.
    middle = widths[len(widths) // 2]
    return ImageSources(
        src=storage.url(variant_name(original_name, middle, "jpg")),
        width=width,
        height=height,
        webp_srcset=srcset("webp"),
        fallback_srcset=srcset("jpg"),
    )


def line_image_sources(url: str, storage: Storage = default_storage) -> ImageSources:
    """Sources for a line's image known only by its URL (cart, wishlist, checkout: a
    96 px slot at most). The narrowest variant when it exists, else the URL as it is."""
    media_url = settings.MEDIA_URL
    name = url[len(media_url) :] if url.startswith(media_url) else ""
    width = VARIANT_WIDTHS[0]
    if name and storage.exists(variant_name(name, width, "webp")):
        return ImageSources(
            src=storage.url(variant_name(name, width, "jpg")),
            width=width,
            height=width,
            webp_srcset=f"{storage.url(variant_name(name, width, 'webp'))} {width}w",
            fallback_srcset=f"{storage.url(variant_name(name, width, 'jpg'))} {width}w",
        )
    return ImageSources(url, width, width)
