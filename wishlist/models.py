"""One wishlist per user. An item outlives its product: when the product is deleted the item
keeps its id and name, so the shopper sees it flagged as no longer available."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Wishlist(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wishlist"
    )
    version = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Wishlist of {self.user}"


class WishlistItem(models.Model):
    wishlist = models.ForeignKey(Wishlist, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The product's id and name when it was added; kept when the product is deleted.
    product_ref = models.PositiveBigIntegerField()
    product_name = models.CharField(max_length=200)
    product_slug = models.CharField(max_length=220)
    added_at = models.DateTimeField(auto_now_add=True)
    # The price when it was saved, to show a drop since (null: the product was already gone).
    added_price_minor = models.PositiveBigIntegerField(null=True, blank=True)
    # Back-in-stock alert: asked for and not yet sent / sent (until the shopper asks again).
    alert_wanted = models.BooleanField(default=False)
    alert_sent = models.BooleanField(default=False)

    class Meta:
        ordering = ["-added_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["wishlist", "product_ref"], name="wishlist_item_one_per_product"
            )
        ]
        indexes = [
            # The restock job's look-up: who waits for this product.
            models.Index(
                fields=["product_ref"],
                condition=models.Q(alert_wanted=True),
                name="wishlist_item_alert_wanted",
            )
        ]

    def __str__(self) -> str:
        return self.product_name
