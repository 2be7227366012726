"""A small local stand-in for the slice of Stripe's HTTP API that Haat uses, so the real
``stripe`` SDK can be exercised offline. It records every request (form body, headers)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


class StripeStandIn:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.sessions: dict[str, dict[str, Any]] = {}
        self.by_idempotency_key: dict[str, dict[str, Any]] = {}
        self.fail_next: dict[str, Any] | None = None
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                standin.requests.append(
                    {"method": "GET", "path": self.path, "headers": dict(self.headers)}
                )
                session_id = self.path.rsplit("/", 1)[-1].split("?")[0]
                if (
                    self.path.startswith("/v1/checkout/sessions/")
                    and session_id in standin.sessions
                ):
                    self._reply(200, standin.sessions[session_id])
                else:
                    self._reply(
                        404,
                        {"error": {"type": "invalid_request_error", "message": "No such session"}},
                    )

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length).decode()
                form = dict(parse_qsl(raw, keep_blank_values=True))
                key = self.headers.get("Idempotency-Key", "")
                standin.requests.append(
                    {
                        "method": "POST",
                        "path": self.path,
                        "form": form,
                        "raw": raw,
                        "headers": dict(self.headers),
                        "idempotency_key": key,
                    }
                )
                if standin.fail_next is not None:
                    status, error = standin.fail_next["status"], standin.fail_next["error"]
                    standin.fail_next = None
                    self._reply(status, {"error": error})
                    return
                if key and key in standin.by_idempotency_key:
                    self._reply(200, standin.by_idempotency_key[key])
                    return
                if self.path.startswith("/v1/checkout/sessions/") and self.path.endswith("/expire"):
                    session = standin.sessions.get(self.path.split("/")[4])
                    if session is None or session["status"] != "open":
                        self._reply(
                            400,
                            {
                                "error": {
                                    "type": "invalid_request_error",
                                    "message": "Only open Checkout Sessions can be expired.",
                                }
                            },
                        )
                        return
                    session["status"] = "expired"
                    body = session
                elif self.path == "/v1/checkout/sessions":
                    session_id = f"cs_test_standin_{len(standin.sessions) + 1}"
                    # Like Stripe: the session's total and currency follow from its line items.
                    amount_total, index = 0, 0
                    while f"line_items[{index}][quantity]" in form:
                        unit = form[f"line_items[{index}][price_data][unit_amount]"]
                        amount_total += int(form[f"line_items[{index}][quantity]"]) * int(unit)
                        index += 1
                    body = {
                        "id": session_id,
                        "object": "checkout.session",
                        "url": f"https://checkout.stripe.test/pay/{session_id}",
                        "status": "open",
                        "payment_status": "unpaid",
                        "payment_intent": None,
                        "amount_total": amount_total,
                        "currency": form.get("line_items[0][price_data][currency]"),
                        "metadata": {"order_id": form.get("metadata[order_id]", "")},
                        "expires_at": int(form.get("expires_at", time.time() + 1800)),
                    }
                    standin.sessions[session_id] = body
                elif self.path == "/v1/refunds":
                    body = {
                        "id": f"re_standin_{len(standin.requests)}",
                        "object": "refund",
                        "status": "succeeded",
                        "payment_intent": form.get("payment_intent"),
                    }
                else:
                    self._reply(
                        404, {"error": {"type": "invalid_request_error", "message": "Unknown path"}}
                    )
                    return
                if key:
                    standin.by_idempotency_key[key] = body
                self._reply(200, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StripeStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def pay(self, session_id: str) -> dict[str, Any]:
        """What Stripe would hold after the shopper paid."""
        session = self.sessions[session_id]
        session.update(
            status="complete", payment_status="paid", payment_intent=f"pi_standin_{session_id}"
        )
        return session
