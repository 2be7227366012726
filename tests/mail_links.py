"""Links in the mails the shop sends (sign-up confirmation, password reset), as paths."""

from __future__ import annotations

import re


def link_in(message, marker: str) -> str:
    """The path of the first link in ``message``'s body that contains ``marker``."""
    for url in re.findall(r"https?://\S+", message.body):
        if marker in url:
            return "/" + url.split("://", 1)[1].split("/", 1)[1]
    raise AssertionError(f"no link with {marker!r} in:\n{message.body}")


def confirm_sign_up(client, mailbox, **extra):
    """Follow the sign-up mail's link and press its button, as the new shopper would."""
    [message] = [m for m in mailbox if "/sign-up/confirm/" in m.body]
    path = link_in(message, "/sign-up/confirm/")
    page = client.get(path)
    assert page.status_code == 200, page.content
    return client.post(path, **extra)
