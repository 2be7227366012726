"""Product images in modern formats and sized for their slot (catalog/images.py): variants are
drawn when an image is saved, the management command draws them for older images, and every page
draws images through one include with srcset, width and height, and lazy loading below the fold."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from PIL import Image

from cart.services import cart_add_line
from catalog.images import variant_name
from catalog.models import ProductImage
from wishlist.services import wishlist_toggle

pytestmark = pytest.mark.django_db


def picture(width: int = 480, height: int = 480, image_format: str = "JPEG") -> ContentFile:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 90, 40)).save(buffer, format=image_format)
    return ContentFile(buffer.getvalue())


@pytest.fixture
def add_image():
    def add(product, *, width: int = 480, height: int = 480, position: int = 0) -> ProductImage:
        image = ProductImage(product=product, position=position, alt_text=f"{product.name} view")
        image.image.save(f"{product.slug}-{position}.jpg", picture(width, height), save=False)
        image.save()
        image.refresh_from_db()
        return image

    return add


def test_a_new_image_gets_webp_and_jpeg_variants_at_its_widths(make_product, add_image):
    image = add_image(make_product(), width=1200, height=900)
    assert (image.width, image.height) == (1200, 900)
    assert image.variant_widths == [160, 320, 640]
    assert image.variants_of == image.image.name
    for width in image.variant_widths:
        for extension, image_format in (("webp", "WEBP"), ("jpg", "JPEG")):
            with default_storage.open(variant_name(image.image.name, width, extension)) as f:
                drawn = Image.open(f)
                assert drawn.format == image_format
                assert drawn.size == (width, round(900 * width / 1200))  # the shape is kept


def test_a_small_original_is_never_enlarged(make_product, add_image):
    image = add_image(make_product(), width=480, height=480)
    assert image.variant_widths == [160, 320, 480]


def test_a_replaced_picture_gets_new_variants(make_product, add_image):
    image = add_image(make_product(), width=480, height=480)
    image.image.save("replacement.jpg", picture(300, 200), save=False)
    image.save()
    image.refresh_from_db()
    assert image.variants_of == image.image.name
    assert (image.width, image.height, image.variant_widths) == (300, 200, [160, 300])


def test_an_unreadable_file_keeps_its_original_only(make_product):
    image = ProductImage(product=make_product())
    image.image.save("broken.jpg", ContentFile(b"not a picture"), save=False)
    image.save()
    image.refresh_from_db()
    assert image.variant_widths == [] and image.needs_variants


def test_the_command_draws_variants_for_images_saved_before(make_product, add_image, capsys):
    image = add_image(make_product())
    # As a row saved before variants existed: nothing recorded, no files.
    ProductImage.objects.filter(pk=image.pk).update(variant_widths=[], variants_of="")
    for width in image.variant_widths:
        default_storage.delete(variant_name(image.image.name, width, "webp"))
    call_command("product_image_variants")
    image.refresh_from_db()
    assert image.variant_widths == [160, 320, 480]
    assert default_storage.exists(variant_name(image.image.name, 160, "webp"))
    assert "drawn for 1 image" in capsys.readouterr().out
    call_command("product_image_variants")  # again: nothing left to do
    assert "drawn for 0 image" in capsys.readouterr().out


def tags(html: str, name: str) -> list[str]:
    return re.findall(rf"<{name}\b[^>]*>", html)


def test_product_page_main_image_is_eager_and_sized_and_thumbs_are_lazy(
    client, make_product, add_image
):
    product = make_product(name="Steel Kettle")
    add_image(product, position=0)
    add_image(product, position=1)
    html = client.get(product.get_absolute_url()).content.decode()
    main = next(tag for tag in tags(html, "img") if "data-gallery-main" in tag)
    assert 'fetchpriority="high"' in main and "loading=" not in main
    assert 'width="480" height="480"' in main
    assert re.search(
        r'srcset="[^"]*-160w\.jpg 160w, [^"]*-320w\.jpg 320w, [^"]*-480w\.jpg 480w"', main
    )
    assert 'sizes="(max-width: 720px) 100vw, 560px"' in main
    source = next(tag for tag in tags(html, "source") if "data-gallery-source" in tag)
    assert 'type="image/webp"' in source and "-480w.webp 480w" in source
    thumbs = [tag for tag in tags(html, "img") if 'sizes="72px"' in tag]
    assert len(thumbs) == 2
    assert all('loading="lazy"' in tag and 'width="72" height="72"' in tag for tag in thumbs)
    # Each thumbnail carries the main slot's sources for the gallery to swap in.
    buttons = tags(html, "button")
    assert sum("data-webp-srcset=" in b and "-480w.webp 480w" in b for b in buttons) == 2


def test_cards_load_the_first_row_at_once_and_the_rest_lazily(client, make_product, add_image):
    for n in range(6):
        add_image(make_product(name=f"Card Product {n}"))
    html = client.get("/").content.decode()
    cards = [tag for tag in tags(html, "img") if 'sizes="(max-width: 720px) 50vw, 240px"' in tag]
    assert len(cards) == 6
    assert all('width="480" height="480"' in tag and "srcset=" in tag for tag in cards)
    assert ["loading=" in tag for tag in cards] == [False] * 4 + [True] * 2
    assert len([t for t in tags(html, "source") if 'type="image/webp"' in t]) == 6


def test_cart_and_wishlist_lines_use_the_smallest_variant(
    shopper_client, shopper, make_product, add_image
):
    product = make_product(name="Rice Cooker")
    image = add_image(product)
    cart_add_line(user_id=shopper.pk, product_id=product.pk, quantity=1)
    wishlist_toggle(user_id=shopper.pk, product_id=product.pk)
    small = default_storage.url(variant_name(image.image.name, 160, "webp"))
    for path, box in (("/cart/", 88), ("/wishlist/", 96)):
        html = shopper_client.get(path).content.decode()
        assert f'srcset="{small} 160w"' in html, path
        line = next(tag for tag in tags(html, "img") if 'sizes="96px"' in tag)
        assert f'width="{box}" height="{box}"' in line and 'loading="lazy"' in line


def test_an_image_without_variants_is_drawn_from_its_original(client, make_product, add_image):
    product = make_product()
    image = add_image(product)
    ProductImage.objects.filter(pk=image.pk).update(variant_widths=[], variants_of="")
    html = client.get(product.get_absolute_url()).content.decode()
    main = next(tag for tag in tags(html, "img") if "data-gallery-main" in tag)
    assert f'src="{image.image.url}"' in main and "srcset" not in main
