from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalogue"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from catalog import signals
        from catalog.models import Category, Product, ProductImage

        post_save.connect(signals.product_saved, sender=Product, dispatch_uid="haat-product-sync")
        post_save.connect(
            signals.image_changed, sender=ProductImage, dispatch_uid="haat-image-sync"
        )
        post_delete.connect(
            signals.image_changed, sender=ProductImage, dispatch_uid="haat-image-remove"
        )
        post_save.connect(
            signals.image_saved, sender=ProductImage, dispatch_uid="haat-image-variants"
        )
        post_delete.connect(
            signals.product_deleted, sender=Product, dispatch_uid="haat-product-remove"
        )
        # The menu and product pages in the shared cache are made from the categories.
        for signal, uid in (
            (post_save, "haat-category-saved"),
            (post_delete, "haat-category-gone"),
        ):
            signal.connect(signals.category_changed, sender=Category, dispatch_uid=uid)
