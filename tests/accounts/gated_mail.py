"""A mail backend that holds every message at a gate (up to 5 s), to see whether a request
waited for its mail."""

from __future__ import annotations

import threading

from django.core.mail.backends.locmem import EmailBackend

GATE = threading.Event()
MAILERS = {"default": {"BACKEND": "tests.accounts.gated_mail.GatedEmailBackend"}}


class GatedEmailBackend(EmailBackend):
    def send_messages(self, messages):
        GATE.wait(timeout=5)
        return super().send_messages(messages)
