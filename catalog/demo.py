"""The demo catalogue: deterministic products and locally drawn product images (no downloads)."""

from __future__ import annotations

import colorsys
import functools
import io
import random
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont, ImageOps


@dataclass(frozen=True)
class DemoCategory:
    name: str
    slug: str
    hue: float
    nouns: tuple[str, ...]
    price_range: tuple[int, int]  # whole taka


CATEGORIES = (
    DemoCategory(
        "Electronics",
        "electronics",
        0.58,
        (
            "Wireless Earbuds",
            "Bluetooth Speaker",
            "Power Bank",
            "Smart Watch",
            "USB-C Charger",
            "Gaming Mouse",
            "Mechanical Keyboard",
            "LED Desk Lamp",
            "Webcam",
            "Phone Stand",
        ),
        (450, 18000),
    ),
    DemoCategory(
        "Fashion",
        "fashion",
        0.92,
        (
            "Cotton Panjabi",
            "Denim Jacket",
            "Silk Saree",
            "Polo Shirt",
            "Leather Belt",
            "Canvas Sneakers",
            "Kurti",
            "Chino Trousers",
            "Hijab Scarf",
            "Leather Wallet",
        ),
        (350, 6500),
    ),
    DemoCategory(
        "Home & Living",
        "home-living",
        0.08,
        (
            "Nakshi Kantha Throw",
            "Ceramic Mug Set",
            "Bedsheet Set",
            "Wall Clock",
            "Jute Basket",
            "Table Runner",
            "Cushion Cover",
            "Storage Box",
            "Bamboo Tray",
            "Scented Candle",
        ),
        (250, 5500),
    ),
    DemoCategory(
        "Beauty & Care",
        "beauty-care",
        0.83,
        (
            "Face Wash",
            "Sunscreen SPF 50",
            "Hair Oil",
            "Lip Balm",
            "Moisturiser",
            "Kajal Pencil",
            "Herbal Shampoo",
            "Nail Polish",
            "Face Mask",
            "Body Lotion",
        ),
        (120, 2200),
    ),
    DemoCategory(
        "Groceries",
        "groceries",
        0.28,
        (
            "Aromatic Rice 5 kg",
            "Mustard Oil 1 L",
            "Red Lentils 1 kg",
            "Tea Leaves 400 g",
            "Sundarbans Honey",
            "Chinigura Rice 2 kg",
            "Date Molasses",
            "Spice Mix",
            "Ghee 400 g",
            "Puffed Rice",
        ),
        (80, 1600),
    ),
    DemoCategory(
        "Sports & Outdoors",
        "sports-outdoors",
        0.38,
        (
            "Cricket Bat",
            "Football",
            "Yoga Mat",
            "Badminton Racket",
            "Water Bottle",
            "Running Shoes",
            "Dumbbell Pair",
            "Skipping Rope",
            "Camping Tent",
            "Cycling Gloves",
        ),
        (200, 9000),
    ),
    DemoCategory(
        "Toys & Kids",
        "toys-kids",
        0.13,
        (
            "Building Blocks",
            "Plush Elephant",
            "Puzzle 500 pcs",
            "Remote Car",
            "Colouring Set",
            "Doll House",
            "Baby Rattle",
            "Kids Backpack",
            "Board Game",
            "Wooden Train",
        ),
        (150, 4800),
    ),
    DemoCategory(
        "Books & Stationery",
        "books-stationery",
        0.68,
        (
            "Notebook A5",
            "Fountain Pen",
            "Sketchbook",
            "Bangla Novel",
            "Desk Planner",
            "Colour Pencils",
            "Geometry Box",
            "Cookbook",
            "Sticky Notes",
            "Poetry Collection",
        ),
        (60, 1800),
    ),
    DemoCategory(
        "Health & Wellness",
        "health-wellness",
        0.5,
        (
            "Digital Thermometer",
            "Blood Pressure Monitor",
            "Vitamin C Tablets",
            "First Aid Kit",
            "Hand Sanitiser",
            "Massage Ball",
            "Pulse Oximeter",
            "Herbal Tea",
            "Knee Support",
            "Face Masks (50)",
        ),
        (90, 4500),
    ),
    DemoCategory(
        "Kitchen & Dining",
        "kitchen-dining",
        0.02,
        (
            "Pressure Cooker",
            "Non-stick Pan",
            "Rice Cooker",
            "Knife Set",
            "Blender",
            "Tiffin Carrier",
            "Spice Rack",
            "Electric Kettle",
            "Dinner Set",
            "Cutting Board",
        ),
        (300, 8500),
    ),
)

ADJECTIVES = (
    "Classic",
    "Premium",
    "Everyday",
    "Deluxe",
    "Eco",
    "Compact",
    "Pro",
    "Lite",
    "Royal",
    "Urban",
    "Handmade",
    "Original",
    "Signature",
    "Essential",
    "Smart",
)
MAKERS = (
    "Padma",
    "Meghna",
    "Sundar",
    "Nokshi",
    "Rupa",
    "Shapla",
    "Kashful",
    "Jamuna",
    "Teesta",
    "Sonali",
    "Akash",
    "Bonolota",
)


@dataclass(frozen=True)
class DemoProduct:
    name: str
    slug: str
    category_slug: str
    description: str
    price_minor: int
    list_price_minor: int | None
    stock: int
    is_published: bool
    hue: float


def demo_products(count: int = 300) -> Iterator[DemoProduct]:
    """``count`` products spread evenly over the categories; the same every run."""
    rng = random.Random(20261126)
    for index in range(count):
        category = CATEGORIES[index % len(CATEGORIES)]
        noun = category.nouns[(index // len(CATEGORIES)) % len(category.nouns)]
        adjective = ADJECTIVES[rng.randrange(len(ADJECTIVES))]
        maker = MAKERS[rng.randrange(len(MAKERS))]
        name = f"{maker} {adjective} {noun}"
        slug = f"{_slugify(name)}-{index + 1:04d}"
        low, high = category.price_range
        price_major = rng.randrange(low, high)
        price_major = (
            max(low, price_major - price_major % 10 + 9) if price_major > 100 else price_major
        )
        list_price = None
        if rng.random() < 0.45:
            list_price = int(price_major * rng.choice((1.1, 1.15, 1.2, 1.3, 1.5)))
        roll = rng.random()
        # A shop's real mix: some sold out, some nearly gone, a few withdrawn from sale.
        if index % 25 == 3:
            stock, published = rng.randrange(0, 20), False
        elif roll < 0.08:
            stock, published = 0, True
        elif roll < 0.2:
            stock, published = rng.randrange(1, 4), True
        else:
            stock, published = rng.randrange(5, 150), True
        description = (
            f"The {name} from {maker} is {'an' if adjective[0] in 'AEIOU' else 'a'} "
            f"{adjective.lower()} pick in {category.name}.\n\n"
            f"Carefully checked before dispatch, delivered across Bangladesh, with easy 7-day returns "
            f"if it is not right for you."
        )
        yield DemoProduct(
            name=name,
            slug=slug,
            category_slug=category.slug,
            description=description,
            price_minor=price_major * 100,
            list_price_minor=list_price * 100 if list_price and list_price > price_major else None,
            stock=stock,
            is_published=published,
            hue=(category.hue + rng.uniform(-0.05, 0.05)) % 1.0,
        )


def _slugify(text: str) -> str:
    out = "".join(ch.lower() if ch.isalnum() else "-" for ch in text)
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")


def _rgb(hue: float, lightness: float, saturation: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hls_to_rgb(hue, lightness, saturation)
    return int(r * 255), int(g * 255), int(b * 255)


# Drawing is pure (the same arguments draw the same bytes): tests draw a few pictures again and
# again, the seed each once.
@functools.lru_cache(maxsize=64)
def render_product_image(name: str, hue: float, variant: int = 0, size: int = 480) -> bytes:
    """A clean, recognisable JPEG: coloured gradient, a product 'object' and the product's name."""
    hue = (hue + variant * 0.06) % 1.0
    gradient = (
        Image.linear_gradient("L").rotate(35 + variant * 90, expand=False).resize((size, size))
    )
    image = ImageOps.colorize(gradient, _rgb(hue, 0.93, 0.6), _rgb(hue, 0.72, 0.55)).convert("RGB")
    draw = ImageDraw.Draw(image)
    centre = size // 2
    body = _rgb(hue, 0.42, 0.55)
    accent = _rgb((hue + 0.5) % 1.0, 0.55, 0.6)
    shape = sum(map(ord, name)) % 4
    box = (centre - 120, centre - 150, centre + 120, centre + 90)
    if shape == 0:
        draw.rounded_rectangle(box, radius=36, fill=body)
        draw.rounded_rectangle(
            (centre - 80, centre - 110, centre + 80, centre + 50), radius=20, fill=accent
        )
    elif shape == 1:
        draw.ellipse((centre - 125, centre - 165, centre + 125, centre + 85), fill=body)
        draw.ellipse((centre - 55, centre - 95, centre + 55, centre + 15), fill=accent)
    elif shape == 2:
        draw.polygon(
            [(centre, centre - 170), (centre + 135, centre + 85), (centre - 135, centre + 85)],
            fill=body,
        )
        draw.rectangle((centre - 70, centre + 40, centre + 70, centre + 70), fill=accent)
    else:
        draw.rounded_rectangle(
            (centre - 95, centre - 170, centre + 95, centre + 95), radius=60, fill=body
        )
        draw.rectangle((centre - 95, centre - 40, centre + 95, centre + 5), fill=accent)
    words = name.split()
    lettered = [word for word in words if word[0].isalpha()]
    initials = "".join(word[0] for word in lettered[-2:]).upper()
    big = ImageFont.load_default(size=64)
    draw.text((centre, centre - 40), initials, font=big, fill=(255, 255, 255), anchor="mm")
    small = ImageFont.load_default(size=26)
    label = " ".join(words[-3:]) if len(" ".join(words[-3:])) <= 30 else " ".join(words[-2:])
    draw.rounded_rectangle((24, size - 96, size - 24, size - 36), radius=14, fill=(255, 255, 255))
    draw.text((centre, size - 66), label[:32], font=small, fill=(33, 33, 33), anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=82, optimize=True)
    return buffer.getvalue()
