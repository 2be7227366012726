from django.urls import path

from wishlist import views

app_name = "wishlist"

urlpatterns = [
    path("", views.wishlist_page, name="page"),
    path("toggle/", views.wishlist_toggle, name="toggle"),
    path("items/<id:product_id>/remove/", views.wishlist_remove, name="remove"),
    path("items/<id:product_id>/move-to-cart/", views.wishlist_move_to_cart, name="move_to_cart"),
    path("items/<id:product_id>/alert/", views.wishlist_alert, name="alert"),
    path("from-cart/<id:product_id>/", views.wishlist_save_from_cart, name="from_cart"),
]
