from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="list"),
    path("<id:order_id>/", views.order_detail, name="detail"),
    path("<id:order_id>/cancel/", views.order_cancel, name="cancel"),
]
