from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from haat.background import enqueue
from haat.validation import TextRule

FULL_NAME = TextRule(max_length=150, min_visible=0)


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class SignUpForm(forms.Form):
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=FULL_NAME.max_length,
        required=False,
        validators=[FULL_NAME.django_validator],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Confirm password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_email(self) -> str:
        # No look-up here: whether the address has an account is told by mail, to its owner.
        return self.cleaned_data["email"].strip().lower()

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords do not match."))
        elif password1:
            candidate = User(email=cleaned.get("email", ""), full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(password1, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class PasswordResetRequestForm(PasswordResetForm):
    """Asks for a reset link. Finding the account and sending the mail happen outside the
    request, so every address gets the same work and the same answer."""

    def save(self, *args: Any, **kwargs: Any) -> None:
        # PasswordResetView calls save(request=..., use_https=..., <templates>, ...).
        request: HttpRequest = kwargs["request"]
        enqueue(
            "accounts.tasks.send_password_reset",
            email=self.cleaned_data["email"],
            domain=request.get_host(),
            use_https=bool(kwargs.get("use_https", False)),
            language=translation.get_language() or "",
        )
