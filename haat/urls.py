from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path, register_converter
from django.views.static import serve

from accounts.webhooks import clerk_webhook
from haat.api import api
from haat.converters import IdConverter

# Before the apps' URLconfs are included: they use <id:…> for product and order ids.
register_converter(IdConverter, "id")
handler400 = "haat.views.bad_request"

admin.site.site_header = f"{settings.SHOP_NAME} administration"
admin.site.site_title = f"{settings.SHOP_NAME} admin"

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("account/", include("accounts.urls")),
    path("cart/", include("cart.urls")),
    path("wishlist/", include("wishlist.urls")),
    path("checkout/", include("checkout.urls")),
    path("orders/", include("orders.urls")),
    path("webhooks/clerk", clerk_webhook, name="clerk_webhook"),
    path("", include("payments.urls")),
    path("", include("catalog.urls")),
]

if settings.BENCH_FLOOR_ENDPOINT:
    from haat.views import bench_floor

    urlpatterns.insert(0, path("bench/floor", bench_floor, name="bench_floor"))

if settings.SERVE_MEDIA:
    # Product images live in MEDIA_ROOT; a front server may take this over (SERVE_MEDIA=false).
    urlpatterns.append(
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})
    )
