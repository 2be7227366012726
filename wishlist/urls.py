from django.urls import path

from wishlist import views

app_name = "wishlist"

urlpatterns = [
    path("", views.wishlist_page, name="page"),
    path("toggle/", views.wishlist_toggle, name="toggle"),
    path("items/<id:product_id>/remove/", views.wishlist_remove, name="remove"),
]
