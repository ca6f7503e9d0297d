"""The portal's e-mails go through the outbox and communications' e-mail delivery (issue 20, defect 4):
a sign-in link whose send fails is retried with a fresh token that is never stored, and the erasure
notice has a delivery record."""

from __future__ import annotations

import json
import re

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.test import Client as HttpClient
from django.urls import reverse

from communications.models import Delivery, Notification
from hvaccrm.models import IntegrationLog
from hvaccrm.outbox_run import outbox_process
from portal import services
from portal.models import ErasureRequest

pytestmark = pytest.mark.django_db


def _mail_server_refuses_once(monkeypatch) -> None:
    send = locmem.EmailBackend.send_messages
    refused: list[bool] = []

    def refuse_first(self, messages):
        if not refused:
            refused.append(True)
            raise ConnectionRefusedError("the mail server is down")
        return send(self, messages)

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", refuse_first)


def test_a_sign_in_link_whose_first_send_fails_is_retried_by_the_outbox_and_the_link_works(
        anna_user, monkeypatch, django_capture_on_commit_callbacks):
    _mail_server_refuses_once(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.login_link_request(email="anna@example.com") is True
    row = IntegrationLog.objects.get(kind="signin_link.send")
    delivery = Delivery.objects.get(notification__recipient=anna_user, channel="email")
    assert row.state == "failed" and not mail.outbox
    assert (delivery.state, delivery.attempts, delivery.address) == ("failed", 1, "anna@example.com")

    assert outbox_process(log_id=row.pk) == "succeeded"
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("sent", 2)
    [sent] = mail.outbox
    assert sent.to == ["anna@example.com"]
    token = re.search(r"/portal/login/link/([A-Za-z0-9_\-]+)/", sent.body).group(1)
    http = HttpClient()
    assert http.post(reverse("portal:link_login", args=[token])).status_code == 302
    assert int(http.session["_auth_user_id"]) == anna_user.pk


def test_the_sign_in_link_row_and_its_notification_hold_no_token(anna_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.login_link_request(email="anna@example.com")
    row = IntegrationLog.objects.get(kind="signin_link.send")
    assert row.payload == {"user": anna_user.pk, "purpose": "login", "created_by": None}
    token = re.search(r"/portal/login/link/([A-Za-z0-9_\-]+)/", mail.outbox[0].body).group(1)
    stored = [json.dumps(r.payload) + r.error for r in IntegrationLog.objects.all()]
    stored += [n.title + n.body + json.dumps(n.payload) for n in Notification.objects.all()]
    assert not [s for s in stored if token in s]
    assert not Notification.objects.filter(recipient=anna_user, read_at__isnull=True).exists()  # not for the bell


def test_the_erasure_notice_has_a_delivery_record_and_the_address_is_forgotten_once_sent(
        anna_http, client_anna, anna_user, administrator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        anna_http.post(reverse("portal:erasure"), {"confirm": "on"})
    request = ErasureRequest.objects.get(client_id=client_anna.pk)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.erasure_execute(request_id=request.pk, actor=administrator)
    [sent] = mail.outbox
    assert sent.to == ["anna@example.com"] and "2024/573" in sent.body
    delivery = Delivery.objects.get(notification__recipient=anna_user, notification__kind="portal.erasure_done")
    assert delivery.state == "sent" and delivery.channel == "email"
    assert delivery.address == ""  # its last use is over: the erased address is not kept
    assert IntegrationLog.objects.get(kind="delivery.send", object_id=str(delivery.pk)).state == "succeeded"
