"""Every page is sent with a strict Content-Security-Policy (Django's own, with a fresh nonce per
response); inline scripts carry that nonce; /api/docs serves django-ninja's bundled Swagger UI
from Haat's static files, not a CDN. Clerk pages and Stripe checkout widen it only as needed."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders

from tests.accounts.clerk_helpers import ISSUER, PARTY, PUBLISHABLE_KEY, keypair

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


def nonce_of(response) -> str:
    (nonce,) = re.findall(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
    return nonce


def test_pages_have_a_strict_policy(client, make_product):
    product = make_product()
    for path in ["/", product.get_absolute_url(), "/account/sign-in/", "/no-such-page/"]:
        policy = directives(client.get(path))
        assert policy["default-src"] == ["'self'"]
        assert policy["script-src"][0] == "'self'"
        assert policy["script-src"][1].startswith("'nonce-")
        assert policy["object-src"] == ["'none'"]
        assert policy["base-uri"] == ["'self'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["form-action"] == ["'self'"]
        assert not any("unsafe" in value for values in policy.values() for value in values)


def test_the_api_has_the_policy_too(client):
    response = client.get("/api/cart")
    assert response.status_code == 401
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_every_inline_script_carries_the_responses_own_nonce(client):
    first, second = client.get("/"), client.get("/")
    assert nonce_of(first) != nonce_of(second)
    html = first.content.decode()
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline, "the page has its inline class-setting script"
    for attributes in inline:
        assert f'nonce="{nonce_of(first)}"' in attributes or "application/json" in attributes
    assert not re.search(r"\son[a-z]+=", html), "inline event handler attribute"
    assert " style=" not in html


def test_api_docs_serve_the_bundled_swagger_ui(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    scripts = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", html)
    styles = re.findall(r"<link[^>]*\bhref=\"([^\"]+)\"", html)
    assert any(src.endswith("swagger-ui-bundle.js") for src in scripts)
    assert all(url.startswith("/static/") for url in scripts + styles), scripts + styles
    # No other host anywhere on the page (a CDN's URL in the settings either). Not the word
    # "cdn": a page's random CSRF token once contained it.
    assert not re.search(r"//[\w-]+\.[\w.-]+", html), re.findall(r"//[\w-]+\.[\w.-]+", html)
    assert finders.find("ninja/swagger-ui-bundle.js"), "django-ninja's bundled copy"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_clerk_pages_allow_clerks_frontend_api_and_nothing_else_does(client, settings):
    settings.AUTH_PROVIDER = "clerk"
    settings.CLERK_JWT_KEY = keypair()[1]
    settings.CLERK_ISSUER = ISSUER
    settings.CLERK_AUTHORIZED_PARTIES = [PARTY]
    settings.CLERK_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    clerk = "https://clerk.haat.test"  # the Frontend API encoded in the publishable key
    for path in ["/account/sign-in/", "/account/sign-up/"]:
        policy = directives(client.get(path))
        for directive in ["script-src", "connect-src", "frame-src", "img-src"]:
            assert clerk in policy[directive], directive
        assert policy["script-src"][0] == "'self'"
        assert "'unsafe-inline'" not in policy["script-src"]
        assert policy["object-src"] == ["'none'"]
    # Every other page keeps the strict policy.
    assert clerk not in client.get("/").headers["Content-Security-Policy"]


def test_stripe_checkout_is_an_allowed_form_redirect(tmp_path):
    from tests.manage_process import PRODUCTION_ENV, manage

    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SECURE_CSP['form-action'])",
        **PRODUCTION_ENV,
        HAAT_DATA_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "'https://checkout.stripe.com'" in result.stdout
