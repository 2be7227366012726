from django.urls import path

from checkout import views

app_name = "checkout"

urlpatterns = [
    path("", views.review, name="review"),
    path("buy-now/", views.buy_now, name="buy_now"),
    path("start/", views.start, name="start"),
    path("success/", views.success, name="success"),
    path("cancel/", views.cancel, name="cancel"),
]
