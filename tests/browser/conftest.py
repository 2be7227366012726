"""Playwright for Python driving Debian's Chromium (/usr/bin/chromium); never a downloaded browser."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.waits import REQUEST_TRACKER

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("HAAT_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    from playwright.sync_api import expect

    # expect() waits 5 s by default, the pages' actions 10 s (page below): on a machine busy with
    # the other test processes a heavy page (Swagger UI's 1 MB script) took longer than 5 s to
    # draw. Both now wait as long; a passing wait still ends as soon as its condition holds.
    expect.set_options(timeout=10_000)
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


# Every Content-Security-Policy violation becomes a console error the page fixture collects
# (Chromium also logs "Refused to ..." lines naming the policy).
CSP_LISTENER = """document.addEventListener("securitypolicyviolation", (e) => console.error(
  "CSP violation: " + e.effectiveDirective + " blocked " + (e.blockedURI || "inline") +
  " in " + e.sourceFile + ":" + e.lineNumber));"""


def is_csp_violation(text: str) -> bool:
    return text.startswith("CSP violation") or "Content Security Policy" in text


@pytest.fixture
def page(browser, live_server, request) -> Iterator:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    context.set_default_timeout(10_000)
    context.add_init_script(CSP_LISTENER)
    context.add_init_script(REQUEST_TRACKER)  # for tests/browser/waits.py
    page = context.new_page()
    errors: list[str] = []
    violations: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: violations.append(m.text) if is_csp_violation(m.text) else None)
    page.csp_violations = violations  # read by tests that cause a violation on purpose
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
    assert not violations, f"Content-Security-Policy violations: {violations}"


@pytest.fixture
def sign_in(live_server):
    """Put a signed-in session for ``user`` into a Playwright browser context (no form needed)."""
    from django.test import Client

    def attach(context, user) -> None:
        client = Client()
        client.force_login(user)
        host = live_server.url.split("//", 1)[1].split(":")[0]
        context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "value": client.cookies["sessionid"].value,
                    "domain": host,
                    "path": "/",
                }
            ]
        )

    return attach


@pytest.fixture
def screenshot(request):
    """Save a screenshot under test-artifacts/screenshots/ named after the test."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, label: str = "", full_page: bool = False) -> Path:
        name = re.sub(r"[^a-z0-9_-]+", "-", f"{request.node.name}-{label}".lower()).strip("-")
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take
