from django.urls import path

from checkout import views

app_name = "checkout"

urlpatterns = [
    path("", views.review, name="review"),
    path("buy-now/", views.buy_now, name="buy_now"),
]
