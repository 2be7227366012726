from django.apps import AppConfig


class WishlistConfig(AppConfig):
    name = "wishlist"
    verbose_name = "Wishlists"

    def ready(self) -> None:
        from catalog.events import stock_back
        from wishlist.services import stock_back_received

        stock_back.connect(stock_back_received, dispatch_uid="haat-wishlist-back-in-stock")
