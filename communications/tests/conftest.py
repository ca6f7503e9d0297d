"""Fixtures of the communications tests: a local HTTP gateway and the delivery outbox handler."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from communications import conf, services
from hvaccrm.services import outbox


class Gateway:
    """A stand-in for the SMS / Telegram HTTP gateways on 127.0.0.1: records requests, answers `status`."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 200
        self.answer: dict = {"ok": True}
        self.lock = threading.Lock()

    def handler(self):
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with gateway.lock:
                    gateway.requests.append({"path": self.path, "body": body, "status": gateway.status,
                                             "auth": self.headers.get("Authorization"),
                                             "idempotency_key": self.headers.get("Idempotency-Key")})
                    status, answer = gateway.status, gateway.answer
                raw = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        return Handler

    def accepted(self) -> list[dict]:
        return [r for r in self.requests if 200 <= r["status"] < 300]


@pytest.fixture
def gateway(monkeypatch):
    gw = Gateway()
    server = ThreadingHTTPServer(("127.0.0.1", 0), gw.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setattr(conf, "SMS_GATEWAY_URL", base + "/sms")
    monkeypatch.setattr(conf, "SMS_GATEWAY_TOKEN", "test-token")
    monkeypatch.setattr(conf, "TELEGRAM_API_URL", base)
    monkeypatch.setattr(conf, "TELEGRAM_BOT_TOKEN", "123:abc")
    yield gw
    server.shutdown()
    server.server_close()


@pytest.fixture
def delivery_handler():
    """The delivery handler as the integration layer registers it (our tests may not import it):
    attempt the delivery, raise when it failed so the outbox retries it."""
    key = ("notifications", services.DELIVERY_KIND)
    before = outbox._handlers.get(key)

    def handle(row):
        return {"state": services.delivery_attempt_or_raise(delivery_id=int(row.payload["delivery"]))}

    outbox._handlers[key] = handle
    yield handle
    if before is None:
        outbox._handlers.pop(key, None)
    else:
        outbox._handlers[key] = before
