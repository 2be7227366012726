"""The default store: Haat's own database (SQLite or PostgreSQL) through the Django ORM.

Changes to one user's cart or wishlist are serialised by locking that cart/wishlist row
(``SELECT … FOR UPDATE``; SQLite serialises writers by itself), so two tabs or a double click can
never lose an update or create a second line. Stock moves with conditional UPDATEs only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import transaction
from django.db.models import F, OuterRef, Subquery

from cart.models import Cart, CartLine
from catalog.models import Product, ProductImage
from haat.errors import InsufficientStock, ProductNotFound
from haat.store.base import (
    CartChange,
    CartContents,
    ProductState,
    WishlistChange,
    WishlistContents,
    WishlistEntry,
)
from wishlist.models import Wishlist, WishlistItem


def _image_url(name: str | None) -> str:
    if not name:
        return ""
    return ProductImage(image=name).image.url


class DatabaseStore:
    # --- catalogue ------------------------------------------------------------------------
    def products(self, ids: Iterable[int]) -> dict[int, ProductState]:
        wanted = {int(pk) for pk in ids}
        if not wanted:
            return {}
        first_image = ProductImage.objects.filter(product=OuterRef("pk")).order_by("position", "id")
        rows = (
            Product.objects.filter(pk__in=wanted)
            .annotate(first_image=Subquery(first_image.values("image")[:1]))
            .values_list(
                "pk", "slug", "name", "price_minor", "stock", "is_published", "first_image"
            )
        )
        return {
            pk: ProductState(pk, slug, name, price, stock, published, _image_url(image))
            for pk, slug, name, price, stock, published, image in rows
        }

    def stock_adjust(self, product_id: int, delta: int) -> tuple[str, int]:
        with transaction.atomic():
            matching = Product.objects.filter(pk=product_id)
            if delta < 0:
                matching = matching.filter(stock__gte=-delta)
            if matching.update(stock=F("stock") + delta) == 0:
                current = (
                    Product.objects.filter(pk=product_id).values_list("stock", flat=True).first()
                )
                if current is None:
                    raise ProductNotFound("This product does not exist.", product_id=product_id)
                raise InsufficientStock(
                    f"Only {current} in stock; cannot take {-delta}.",
                    product_id=product_id,
                    requested=-delta,
                    available=current,
                )
            # Our UPDATE holds the row lock until commit: this read sees exactly our result.
            name, stock = Product.objects.values_list("name", "stock").get(pk=product_id)
            return name, stock

    def stock_take(self, quantities: Mapping[int, int]) -> dict[int, int]:
        # Ascending product id: every transaction locks rows in the same order, so two
        # checkouts sharing products queue up instead of deadlocking.
        short: list[dict[str, int]] = []
        result: dict[int, int] = {}
        with transaction.atomic():
            for product_id in sorted(quantities):
                wanted = quantities[product_id]
                updated = Product.objects.filter(pk=product_id, stock__gte=wanted).update(
                    stock=F("stock") - wanted
                )
                if updated == 0:
                    current = (
                        Product.objects.filter(pk=product_id)
                        .values_list("stock", flat=True)
                        .first()
                    )
                    short.append(
                        {"product_id": product_id, "requested": wanted, "available": current or 0}
                    )
            if short:
                transaction.set_rollback(True)
            else:
                result = dict(Product.objects.filter(pk__in=quantities).values_list("pk", "stock"))
        if short:
            raise InsufficientStock("Not enough stock for some products.", lines=short)
        return result

    # --- carts ----------------------------------------------------------------------------
    def cart_get(self, user_id: int) -> CartContents:
        cart = Cart.objects.filter(user_id=user_id).values_list("pk", "version").first()
        if cart is None:
            return CartContents()
        lines = CartLine.objects.filter(cart_id=cart[0]).order_by("added_at", "id")
        return CartContents(cart[1], dict(lines.values_list("product_id", "quantity")))

    def cart_update(
        self, user_id: int, product_ids: Iterable[int], change: CartChange
    ) -> CartContents:
        with transaction.atomic():
            cart = _locked(Cart, user_id)
            rows = CartLine.objects.filter(cart=cart).order_by("added_at", "id")
            before = dict(rows.values_list("product_id", "quantity"))
            products = self.products(set(product_ids) | set(before))
            after = change(dict(before), products)
            if after == before:
                return CartContents(cart.version, before)
            removed = [pk for pk in before if pk not in after]
            if removed:
                CartLine.objects.filter(cart=cart, product_id__in=removed).delete()
            for product_id, quantity in after.items():
                if product_id not in before:
                    CartLine.objects.create(cart=cart, product_id=product_id, quantity=quantity)
                elif before[product_id] != quantity:
                    CartLine.objects.filter(cart=cart, product_id=product_id).update(
                        quantity=quantity
                    )
            cart.version += 1
            cart.save(update_fields=["version", "updated_at"])
            return CartContents(cart.version, after)

    # --- wishlists ------------------------------------------------------------------------
    def wishlist_get(self, user_id: int) -> WishlistContents:
        wishlist = Wishlist.objects.filter(user_id=user_id).values_list("pk", "version").first()
        if wishlist is None:
            return WishlistContents()
        items = WishlistItem.objects.filter(wishlist_id=wishlist[0]).order_by("-added_at", "-id")
        return WishlistContents(
            wishlist[1],
            tuple(
                WishlistEntry(ref, name, slug)
                for ref, name, slug in items.values_list(
                    "product_ref", "product_name", "product_slug"
                )
            ),
        )

    def wishlist_update(
        self, user_id: int, product_ids: Iterable[int], change: WishlistChange
    ) -> WishlistContents:
        with transaction.atomic():
            wishlist = _locked(Wishlist, user_id)
            rows = WishlistItem.objects.filter(wishlist=wishlist).order_by("-added_at", "-id")
            before = [
                WishlistEntry(ref, name, slug)
                for ref, name, slug in rows.values_list(
                    "product_ref", "product_name", "product_slug"
                )
            ]
            products = self.products(set(product_ids))
            after = change(list(before), products)
            if after == before:
                return WishlistContents(wishlist.version, tuple(before))
            kept = {entry.product_id for entry in after}
            gone = [entry.product_id for entry in before if entry.product_id not in kept]
            if gone:
                WishlistItem.objects.filter(wishlist=wishlist, product_ref__in=gone).delete()
            existing = {entry.product_id for entry in before}
            live = set(Product.objects.filter(pk__in=kept - existing).values_list("pk", flat=True))
            for entry in reversed(after):  # oldest first, so "newest first" ordering holds
                if entry.product_id not in existing:
                    WishlistItem.objects.create(
                        wishlist=wishlist,
                        product_id=entry.product_id if entry.product_id in live else None,
                        product_ref=entry.product_id,
                        product_name=entry.name,
                        product_slug=entry.slug,
                    )
            wishlist.version += 1
            wishlist.save(update_fields=["version", "updated_at"])
            return WishlistContents(wishlist.version, tuple(after))


def _locked[T: (Cart, Wishlist)](model: type[T], user_id: int) -> T:
    """The user's cart/wishlist row, locked until the transaction ends; created if missing.

    Two first requests racing to create it both end up with the same single row: the insert
    ignores the conflict and both then lock the winner.
    """
    row = model.objects.select_for_update().filter(user_id=user_id).first()
    if row is None:
        model.objects.bulk_create([model(user_id=user_id)], ignore_conflicts=True)
        row = model.objects.select_for_update().get(user_id=user_id)
    return row
