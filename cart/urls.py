from django.urls import path

from cart import views

app_name = "cart"

urlpatterns = [
    path("", views.cart_page, name="page"),
    path("add/", views.cart_add, name="add"),
    path("lines/<id:product_id>/quantity/", views.cart_set_quantity, name="set_quantity"),
    path("remove/", views.cart_remove, name="remove"),
]
