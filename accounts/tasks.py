"""Mails about accounts, sent outside the request (``haat.background.enqueue``): looking an
address up, making a token and sending take time only when an account exists, so doing them
in the request would tell a visitor which addresses have accounts."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from accounts.models import PendingSignUp, User
from accounts.services import sign_up_forget_expired, sign_up_token


def mail_language(email: str, asked_in: str) -> str:
    """The language of a mail to ``email``: the account's own choice if it made one, else the
    language of the page it was asked for on."""
    account = User.objects.filter(email__iexact=email).exclude(language="").first()
    chosen = account.language if account else asked_in
    return chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def send_password_reset(*, email: str, domain: str, use_https: bool, language: str = "") -> None:
    """Django's own reset mail, to every active account with this address (none: no mail)."""
    form = PasswordResetForm({"email": email})
    if form.is_valid():
        with translation.override(mail_language(email, language)):
            form.save(
                domain_override=domain,
                use_https=use_https,
                subject_template_name="accounts/email/password_reset_subject.txt",
                email_template_name="accounts/email/password_reset.txt",
                extra_email_context={"site_name": settings.SHOP_NAME},
            )


def send_sign_up_mail(*, pending_id: int, domain: str, use_https: bool, language: str = "") -> None:
    """A new address gets its confirmation link; an address with an account gets a note
    saying so, with links to sign in and to reset the password. Same answer on the page."""
    sign_up_forget_expired()
    pending = PendingSignUp.objects.filter(pk=pending_id).first()
    if pending is None:
        return
    with translation.override(mail_language(pending.email, language)):
        _send_sign_up_mail(pending, domain=domain, use_https=use_https)


def _send_sign_up_mail(pending: PendingSignUp, *, domain: str, use_https: bool) -> None:
    site = f"{'https' if use_https else 'http'}://{domain}"
    context = {"site_name": settings.SHOP_NAME, "email": pending.email}
    if User.objects.filter(email__iexact=pending.email).exists():
        sign_in = reverse("accounts:login")
        if pending.next_url:
            sign_in += "?" + urlencode({"next": pending.next_url})
        context |= {
            "sign_in_url": site + sign_in,
            "reset_url": site + reverse("accounts:password_reset"),
        }
        pending.delete()  # nothing to confirm: the account exists
        template = "accounts/email/sign_up_exists"
    else:
        confirm = reverse("accounts:signup_confirm", kwargs={"token": sign_up_token(pending)})
        context["confirm_url"] = site + confirm
        template = "accounts/email/sign_up_confirm"
    subject = render_to_string(f"{template}_subject.txt", context).strip()
    body = render_to_string(f"{template}.txt", context)
    EmailMessage(subject, body, to=[pending.email]).send()
