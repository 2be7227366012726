"""Sign up, sign in, sign out and password reset. Every ``next`` is checked for safety."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.clerk import frontend_api, with_clerk_policy
from accounts.forms import PasswordResetRequestForm, SignInForm, SignUpForm
from accounts.middleware import language_cookie_set
from accounts.services import (
    EmailTaken,
    SignUpLinkInvalid,
    sign_in_lockout_lift,
    sign_up_confirm,
    sign_up_pending,
    sign_up_request,
    user_language_set,
)
from haat.background import enqueue
from haat.http import safe_next_url
from haat.limits import rate_limit


def clerk_page(request: HttpRequest, mode: str) -> HttpResponse:
    """Sign in / sign up with Clerk's own components (ClerkJS), then back to ``next``."""
    next_url = safe_next_url(request, reverse("catalog:home"))
    if request.user.is_authenticated:
        return redirect(next_url)
    return with_clerk_policy(
        render(
            request,
            "accounts/clerk_sign_in.html",
            {
                "mode": mode,
                "next": next_url,
                "clerk_publishable_key": settings.CLERK_PUBLISHABLE_KEY,
                "clerk_frontend_api": frontend_api(settings.CLERK_PUBLISHABLE_KEY),
            },
        )
    )


class SignInView(auth_views.LoginView):
    template_name = "accounts/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def dispatch(self, request, *args, **kwargs):
        if settings.AUTH_PROVIDER == "clerk":
            return clerk_page(request, "sign-in")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Welcome back! You are signed in."))
        return response


class SignOutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        if settings.AUTH_PROVIDER != "clerk":
            response = super().post(request, *args, **kwargs)
            messages.info(request, _("You are signed out. See you soon!"))
            return response
        # Clerk's session lives with Clerk: ClerkJS ends it there; we drop our copy of the token.
        response = render(
            request,
            "accounts/clerk_sign_out.html",
            {
                "clerk_publishable_key": settings.CLERK_PUBLISHABLE_KEY,
                "clerk_frontend_api": frontend_api(settings.CLERK_PUBLISHABLE_KEY),
            },
        )
        response.delete_cookie("__session")
        return with_clerk_policy(response)


@rate_limit("sign_up_ip", "sign_up_email")
def sign_up(request: HttpRequest) -> HttpResponse:
    if settings.AUTH_PROVIDER == "clerk":
        return clerk_page(request, "sign-up")
    next_url = safe_next_url(request, reverse("catalog:home"))
    if request.user.is_authenticated:
        return redirect(next_url)
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # One answer for every address: the mail says whether it is new (a link to confirm)
        # or already has an account (links to sign in and to reset the password).
        pending = sign_up_request(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            full_name=form.cleaned_data["full_name"],
            next_url=next_url,
        )
        enqueue(
            "accounts.tasks.send_sign_up_mail",
            pending_id=pending.pk,
            domain=request.get_host(),
            use_https=request.is_secure(),
            language=translation.get_language() or "",
        )
        return redirect("accounts:signup_sent")
    return render(request, "accounts/sign_up.html", {"form": form, "next": next_url})


def sign_up_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/sign_up_sent.html")


def sign_up_confirm_page(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the mail. GET shows a button (so mail scanners that open links create
    nothing); POST creates the account, signs in and carries on where the shopper was."""
    if settings.AUTH_PROVIDER == "clerk":  # shoppers' accounts are Clerk's: no local sign-up
        return clerk_page(request, "sign-up")
    try:
        if request.method != "POST":
            pending = sign_up_pending(token=token)
            return render(request, "accounts/sign_up_confirm.html", {"email": pending.email})
        user, next_url = sign_up_confirm(token=token)
    except (SignUpLinkInvalid, EmailTaken) as refusal:
        return render(
            request, "accounts/sign_up_confirm.html", {"refusal": refusal.message}, status=400
        )
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, _("Your account is ready. Happy shopping!"))
    # Checked when the sign-up was made, and again here, against this request's host.
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("catalog:home")
    return redirect(next_url)


password_reset = rate_limit("password_reset_ip", "password_reset_email")(
    auth_views.PasswordResetView.as_view(
        template_name="accounts/password_reset.html",
        form_class=PasswordResetRequestForm,  # the mail itself: accounts.tasks
        success_url=reverse_lazy("accounts:password_reset_done"),
    )
)
password_reset_done = auth_views.PasswordResetDoneView.as_view(
    template_name="accounts/password_reset_done.html"
)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        # The shopper proved they own the address: a sign-in lockout on it ends now.
        sign_in_lockout_lift(email=form.user.email)
        return response


password_reset_confirm = PasswordResetConfirmView.as_view(
    template_name="accounts/password_reset_confirm.html",
    success_url=reverse_lazy("accounts:password_reset_complete"),
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="accounts/password_reset_complete.html"
)


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """The header's language switch: back to the same page in the chosen language, remembered
    in a cookie and, for a signed-in shopper, on their account."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        return HttpResponseBadRequest(_("Choose one of the shop's languages."))
    response = redirect(safe_next_url(request, reverse("catalog:home")))
    language_cookie_set(response, language)
    if request.user.is_authenticated:
        user_language_set(user_id=request.user.pk, language=language)
    return response
