from django.urls import path

from payments import views

app_name = "payments"

urlpatterns = [
    path("webhooks/stripe", views.stripe_webhook, name="stripe_webhook"),
    path("webhooks/test-gateway", views.gateway_test_webhook, name="test_webhook"),
    path("payments/test/<str:session_id>/", views.gateway_test_page, name="test_pay"),
]
