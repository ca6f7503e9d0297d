"""The webhooks' own handler (communications/inbound/asgi.py), driven as daphne drives an ASGI app:
a signed text is saved and triaged as through the site's stack, a forged one answers 403 and saves
nothing, no cookie is set, and every other path goes to the site's application."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from communications import conf
from communications.inbound.asgi import webhooks_apart
from communications.models import Message
from hvaccrm.tests.asgi_client import asgi_request

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "sms-secret"


@pytest.fixture(autouse=True)
def _secret(monkeypatch):
    monkeypatch.setattr(conf, "INBOUND_SMS_SECRET", SECRET)


def _call(app, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[bytes, bytes], bytes]:
    """One POST of JSON through the ASGI app, as a server hands it over."""
    return asgi_request(app, path, method="POST", body=body, headers=[
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in headers.items())])


def _site(calls: list):
    async def site(scope, receive, send) -> None:
        calls.append(scope["path"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return site


def test_a_signed_text_through_the_webhooks_handler_is_saved_and_triaged_without_a_cookie(client_anna, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    calls: list = []
    app = webhooks_apart(_site(calls))
    body = json.dumps({"type": "message", "from": client_anna.phone, "text": "Czuć gaz w kuchni!", "id": "a-1"}).encode()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    status, headers, content = _call(app, "/communications/inbound/sms/", body, {"X-Signature": signature})
    assert status == 200, content
    message = Message.objects.get(external_id="a-1")
    assert message.conversation.client_id == client_anna.pk and message.urgency == "emergency"
    assert json.loads(content) == {"results": [{"message": message.pk}]}
    assert b"set-cookie" not in headers and calls == []


def test_a_forged_text_through_the_webhooks_handler_is_refused_and_other_paths_reach_the_site(client_anna, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    calls: list = []
    app = webhooks_apart(_site(calls))
    body = json.dumps({"type": "message", "from": client_anna.phone, "text": "Czuć gaz", "id": "f-1"}).encode()
    status, _headers, _content = _call(app, "/communications/inbound/sms/", body, {"X-Signature": "0" * 64})
    assert status == 403 and not Message.objects.exists()
    status, _headers, _content = _call(app, "/communications/inbox/", b"", {})
    assert status == 204 and calls == ["/communications/inbox/"]


def test_the_projects_asgi_entry_point_sends_webhooks_through_their_handler(client_anna, settings):
    # The wiring (ASGI_HTTP_WRAPPERS): the real entry point daphne serves, admission limit included.
    from hvaccrm.asgi import application

    settings.ALLOWED_HOSTS = ["testserver"]
    body = json.dumps({"type": "message", "from": client_anna.phone, "text": "Czuć gaz w piwnicy!", "id": "w-1"}).encode()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    status, headers, content = _call(application, "/communications/inbound/sms/", body, {"X-Signature": signature})
    assert status == 200, content
    assert Message.objects.get(external_id="w-1").urgency == "emergency"
    # The site's full middleware list answers this path with a Content-Security-Policy header (django-csp);
    # the webhooks' handler has no such middleware: the policy's absence shows which handler answered.
    names = {name.lower() for name in headers}
    assert b"content-security-policy" not in names and b"set-cookie" not in names


def test_the_webhooks_handler_starts_and_finishes_each_request_once_before_answering(client_anna, settings):
    # request_finished returns the database connection to the pool: the lean handler fires it when
    # the answer is computed (one thread hop for the whole request), before the answer is sent.
    from django.core import signals

    settings.ALLOWED_HOSTS = ["testserver"]
    seen: list[str] = []

    def started(**kwargs) -> None:
        seen.append("started")

    def finished(**kwargs) -> None:
        seen.append("finished")

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        app = webhooks_apart(_site([]))
        body = json.dumps({"type": "message", "from": client_anna.phone, "text": "Kocioł stoi", "id": "s-1"}).encode()
        signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert _call(app, "/communications/inbound/sms/", body, {"X-Signature": signature})[0] == 200
        assert _call(app, "/communications/inbound/sms/", body, {"X-Signature": "0" * 64})[0] == 403
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)
    assert seen == ["started", "finished", "started", "finished"]


def test_a_webhook_whose_view_fails_answers_500_and_the_next_one_is_served(client_anna, settings, monkeypatch):
    from communications.inbound import views

    settings.ALLOWED_HOSTS = ["testserver"]
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    app = webhooks_apart(_site([]))

    def broken(**kwargs):
        raise RuntimeError("gateway adapter bug")

    monkeypatch.setattr(views.sms, "sms_receive", broken)
    body = json.dumps({"type": "message", "from": client_anna.phone, "text": "Kocioł stoi", "id": "e-1"}).encode()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert _call(app, "/communications/inbound/sms/", body, {"X-Signature": signature})[0] == 500
    monkeypatch.undo()
    monkeypatch.setattr(conf, "INBOUND_SMS_SECRET", SECRET)
    body = json.dumps({"type": "message", "from": client_anna.phone, "text": "Kocioł stoi", "id": "e-2"}).encode()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert _call(app, "/communications/inbound/sms/", body, {"X-Signature": signature})[0] == 200
    assert Message.objects.filter(external_id="e-2").exists()
