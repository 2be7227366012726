"""An SMTP server for the cluster's mails (aiosmtpd, on 127.0.0.1): it accepts every message and
keeps who it was for, its subject and its Message-ID, so a test can count the order mails that really went out."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.header import decode_header, make_header
from typing import Any

from aiosmtpd.controller import Controller

logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's line per connection


@dataclass(frozen=True)
class Received:
    to: tuple[str, ...]
    subject: str
    message_id: str = ""


@dataclass
class MailSink:
    port: int
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content or envelope.content)
        subject = str(make_header(decode_header(message.get("Subject", ""))))
        with self._lock:
            self.received.append(
                Received(tuple(envelope.rcpt_tos), subject, message.get("Message-ID", ""))
            )
        return "250 OK"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()

    def subjects(self) -> list[str]:
        return [mail.subject for mail in self.mails()]

    def mails(self) -> list[Received]:
        with self._lock:
            return list(self.received)
