"""Catalogue data: categories, products, their images and the stock-movement ledger.

``Product.stock`` is only ever changed by ``catalog.services.stock_adjust``, which writes a
``StockMovement`` in the same transaction; the database refuses negative stock outright.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse


class Category(models.Model):
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="Menu order, smallest first.")

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:category", kwargs={"slug": self.slug})


class Product(models.Model):
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True)
    # Money is kept in minor units (paisa for BDT) in the shop's currency (settings.SHOP_CURRENCY).
    price_minor = models.PositiveBigIntegerField("price (minor units)")
    list_price_minor = models.PositiveBigIntegerField(
        "list price (minor units)",
        null=True,
        blank=True,
        help_text="Optional was-price, shown struck through when higher than the price.",
    )
    stock = models.IntegerField(default=0, editable=False)
    is_published = models.BooleanField(default=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="product_stock_non_negative"),
            models.CheckConstraint(
                condition=Q(list_price_minor__isnull=True)
                | Q(list_price_minor__gt=F("price_minor")),
                name="product_list_price_above_price",
            ),
        ]
        indexes = [
            models.Index(fields=["is_published", "category", "-created_at"]),
            models.Index(fields=["is_published", "-created_at"]),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Saving an existing product never writes its stock: the in-memory value may be stale
        # (a sale since it was read), and stock only moves through the ledger services.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.attname
                for field in self._meta.concrete_fields
                if not field.primary_key and field.attname != "stock"
            ]
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("catalog:product", kwargs={"slug": self.slug})

    @property
    def discount_percent(self) -> int:
        if not self.list_price_minor or self.list_price_minor <= self.price_minor:
            return 0
        return round(100 * (self.list_price_minor - self.price_minor) / self.list_price_minor)


class ProductImage(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to="products/")
    alt_text = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    # Filled in when the image is saved (catalog.services.product_image_variants_make): the
    # original's size, and the widths of the WebP and JPEG copies drawn from it (catalog.images).
    width = models.PositiveIntegerField(default=0, editable=False)
    height = models.PositiveIntegerField(default=0, editable=False)
    variant_widths = models.JSONField(default=list, blank=True, editable=False)
    variants_of = models.CharField(max_length=255, blank=True, editable=False)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.alt_text or self.image.name or ""

    @property
    def needs_variants(self) -> bool:
        """No copies yet, or they were drawn from a file since replaced."""
        return bool(self.image.name) and self.variants_of != self.image.name


class StockMovement(models.Model):
    """One row per change of a product's stock: the ledger that explains every number."""

    class Reason(models.TextChoices):
        INITIAL = "initial", "Initial stock"
        RESTOCK = "restock", "Restock / goods received"
        CORRECTION = "correction", "Stock-take correction"
        DAMAGED = "damaged", "Damaged or lost"
        RETURN = "return", "Customer return"
        RESERVATION = "reservation", "Reserved for checkout"
        RELEASE = "release", "Reservation released"
        SALE = "sale", "Sold"

    # SET_NULL keeps the ledger when a product is deleted; product_name preserves what it was.
    product = models.ForeignKey(
        Product, on_delete=models.SET_NULL, null=True, related_name="stock_movements"
    )
    product_name = models.CharField(max_length=200)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    delta = models.IntegerField()
    resulting_stock = models.IntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=255, blank=True)
    reference = models.CharField(max_length=64, blank=True, help_text="e.g. an order number.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(delta=0), name="stock_movement_delta_not_zero"),
            models.CheckConstraint(
                condition=Q(resulting_stock__gte=0), name="stock_movement_result_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_name}: {self.delta:+d} → {self.resulting_stock} ({self.reason})"


class StoreOutbox(models.Model):
    """One row per product whose state must reach an external store (Sanity): the transactional
    outbox. Every change of a product bumps ``version`` in the transaction that makes it; after
    commit a worker claims the row, sends the product's current state labelled with that version
    and records it in ``delivered_version``. Rows are kept (one per product), so versions only
    grow. See ``haat.store.outbox``."""

    product_id = models.BigIntegerField(primary_key=True)  # no foreign key: deletions travel too
    version = models.PositiveBigIntegerField(default=0)
    delivered_version = models.PositiveBigIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField(db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    last_error = models.CharField(max_length=255, blank=True)
    changed_at = models.DateTimeField()

    class Meta:
        verbose_name = "store outbox row"

    def __str__(self) -> str:
        return f"product {self.product_id}: v{self.version}, delivered v{self.delivered_version}"
