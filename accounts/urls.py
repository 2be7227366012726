from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("language/", views.language_switch, name="language"),
    path("sign-in/", views.SignInView.as_view(), name="login"),
    path("sign-out/", views.SignOutView.as_view(), name="logout"),
    path("sign-up/", views.sign_up, name="signup"),
    path("sign-up/sent/", views.sign_up_sent, name="signup_sent"),
    path("sign-up/confirm/<str:token>/", views.sign_up_confirm_page, name="signup_confirm"),
    path("password-reset/", views.password_reset, name="password_reset"),
    path("password-reset/sent/", views.password_reset_done, name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("password-reset/done/", views.password_reset_complete, name="password_reset_complete"),
]
