"""Catalogue admin. Stock is never typed in directly: staff record a change with a reason, and
``stock_adjust`` applies it and writes the ledger. Bulk actions call the catalogue services."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from catalog.models import Category, Product, ProductImage, StockMovement, StoreOutbox
from catalog.money import format_money, shop_currency
from catalog.services import products_set_published, stock_adjust
from haat.errors import DomainError

MANUAL_REASONS = [
    (value, label)
    for value, label in StockMovement.Reason.choices
    if value
    in {
        StockMovement.Reason.INITIAL,
        StockMovement.Reason.RESTOCK,
        StockMovement.Reason.CORRECTION,
        StockMovement.Reason.DAMAGED,
        StockMovement.Reason.RETURN,
    }
]


def _major(amount_minor: int | None) -> Decimal | None:
    if amount_minor is None:
        return None
    return Decimal(amount_minor) / (10 ** shop_currency().exponent)


def _minor(amount: Decimal | None) -> int | None:
    if amount is None:
        return None
    return int((amount * (10 ** shop_currency().exponent)).to_integral_value(ROUND_HALF_UP))


class ProductAdminForm(forms.ModelForm):
    # Staff type prices as shoppers see them (৳ 1,250.50), not in paisa.
    price = forms.DecimalField(
        label="Price",
        min_value=Decimal(0),
        max_digits=14,
        decimal_places=2,
        help_text="In the shop's currency, e.g. 1250 or 1250.50.",
    )
    list_price = forms.DecimalField(
        label="List price",
        required=False,
        min_value=Decimal(0),
        max_digits=14,
        decimal_places=2,
        help_text="Optional was-price, shown struck through; must be higher than the price.",
    )
    stock_change = forms.IntegerField(
        required=False,
        label="Change stock by",
        help_text="Units to add (e.g. 20) or remove (e.g. -3). Leave empty to keep stock as it is.",
        min_value=-1_000_000,
        max_value=1_000_000,
    )
    stock_reason = forms.ChoiceField(
        choices=MANUAL_REASONS, required=False, initial=StockMovement.Reason.RESTOCK
    )
    stock_note = forms.CharField(max_length=255, required=False, label="Stock note")

    class Meta:
        model = Product
        fields = (
            "name",
            "slug",
            "category",
            "description",
            "is_published",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("price", _major(self.instance.price_minor))
            self.initial.setdefault("list_price", _major(self.instance.list_price_minor))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        change = cleaned.get("stock_change")
        if change:
            current = self.instance.stock if self.instance.pk else 0
            if current + change < 0:
                raise ValidationError(
                    {"stock_change": f"Only {current} in stock; cannot remove {-change}."}
                )
            if not cleaned.get("stock_reason"):
                raise ValidationError({"stock_reason": "Say why the stock changes."})
        price, list_price = cleaned.get("price"), cleaned.get("list_price")
        if list_price is not None and price is not None and list_price <= price:
            raise ValidationError(
                {"list_price": "The list price must be higher than the price (or empty)."}
            )
        return cleaned

    def save(self, commit: bool = True) -> Product:
        self.instance.price_minor = _minor(self.cleaned_data["price"]) or 0
        self.instance.list_price_minor = _minor(self.cleaned_data.get("list_price"))
        return super().save(commit=commit)


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    extra = 1


class StockMovementInline(admin.TabularInline):
    model = StockMovement
    fields = ("created_at", "reason", "delta", "resulting_stock", "actor", "note", "reference")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ("-created_at", "-id")
    verbose_name_plural = "Stock ledger (latest first)"

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("actor")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "position")
    list_editable = ("position",)
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
    list_display = ("name", "category", "price_display", "stock", "is_published", "updated_at")
    list_filter = ("is_published", "category")
    list_select_related = ("category",)
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("stock", "created_at", "updated_at")
    inlines = [ProductImageInline, StockMovementInline]
    list_per_page = 50
    actions = ["publish", "unpublish"]
    fieldsets = (
        (None, {"fields": ("name", "slug", "category", "description", "is_published")}),
        ("Price", {"fields": ("price", "list_price")}),
        ("Stock", {"fields": ("stock", "stock_change", "stock_reason", "stock_note")}),
        ("Dates", {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )

    @admin.display(description="Price", ordering="price_minor")
    def price_display(self, obj: Product) -> str:
        return format_money(obj.price_minor)

    def save_model(self, request: HttpRequest, obj: Product, form: Any, change: bool) -> None:
        delta = form.cleaned_data.get("stock_change") or 0
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if delta:
                try:
                    stock_adjust(
                        product_id=obj.pk,
                        delta=delta,
                        reason=form.cleaned_data.get("stock_reason") or "correction",
                        actor=request.user,  # type: ignore[arg-type]
                        note=form.cleaned_data.get("stock_note") or "admin",
                    )
                except DomainError as refusal:
                    # The stock moved since the form was opened; report it instead of crashing.
                    messages.error(request, f"Stock not changed: {refusal.message}")
        obj.refresh_from_db(fields=["stock"])

    # Bulk actions go through the catalogue services, never queryset.update: that sends no
    # signal, so a store keeping a copy of the catalogue (Sanity) would never hear of it.
    @admin.action(description="Publish selected products")
    def publish(self, request: HttpRequest, queryset: Any) -> None:
        changed = products_set_published(
            product_ids=queryset.values_list("pk", flat=True), published=True
        )
        messages.success(request, f"{changed} product(s) published.")

    @admin.action(description="Unpublish selected products")
    def unpublish(self, request: HttpRequest, queryset: Any) -> None:
        changed = products_set_published(
            product_ids=queryset.values_list("pk", flat=True), published=False
        )
        messages.success(request, f"{changed} product(s) unpublished.")


@admin.register(StockMovement)
class StockMovementAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "product_name",
        "reason",
        "delta",
        "resulting_stock",
        "actor",
        "reference",
    )
    list_filter = ("reason",)
    search_fields = ("product_name", "reference", "note")
    list_select_related = ("actor",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(StoreOutbox)
class StoreOutboxAdmin(admin.ModelAdmin):
    """What the Sanity store still owes: changes not delivered yet, their attempts and last
    error (read-only; the background jobs deliver and retry)."""

    list_display = (
        "product_id",
        "version",
        "delivered_version",
        "attempts",
        "due_at",
        "last_error",
        "changed_at",
    )
    ordering = ("-changed_at",)
    search_fields = ("product_id",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
