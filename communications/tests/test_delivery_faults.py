"""A delivery under faults (issue 20): its state is committed as "sending" before the gateway is
called, and every external transport carries the delivery's reference for the gateway to drop a
duplicate of."""

from __future__ import annotations

import multiprocessing
import os

import pytest
from django.core import mail
from django.db import connections

from communications import services, transports
from communications.models import Delivery, NotificationPreference
from hvaccrm.tests.factories import UserFactory


def _delivery(channel: str, **prefs) -> Delivery:
    user = UserFactory(email="ola@example.com")
    NotificationPreference.objects.create(user=user, **prefs)
    [nid] = services.notify(user_ids=[user.pk], spec=services.NotificationSpec(
        kind="t", title="Awaria", body="Jedziemy", channels=[channel]))
    return Delivery.objects.get(notification_id=nid, channel=channel)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_after_the_gateway_took_the_text_leaves_it_sending_and_resends_the_same_reference(gateway, settings):
    settings.OUTBOX_PUBLISH_ON_COMMIT = False  # the worker below runs it, not the commit
    d = _delivery("sms", phone="+48600100200")
    assert (d.state, d.address) == ("pending", "+48600100200")
    connections.close_all()

    def killed_mid_send():
        sms = transports.transport_for("sms")
        send = sms.send
        sms.send = lambda delivery: (send(delivery), os._exit(9))  # the gateway has it; the worker dies
        services.delivery_attempt(delivery_id=d.pk)

    proc = multiprocessing.get_context("fork").Process(target=killed_mid_send)
    proc.start()
    proc.join(60)
    assert proc.exitcode == 9
    d.refresh_from_db()
    assert (d.state, d.attempts) == ("sending", 1)
    assert services.delivery_attempt(delivery_id=d.pk) == "sent"
    sends = [r for r in gateway.requests if r["path"] == "/sms"]
    assert len(sends) == 2  # 1 + the one kill that hit it mid-send
    assert {r["body"]["reference"] for r in sends} == {f"delivery-{d.pk}"}
    assert {r["idempotency_key"] for r in sends} == {f"delivery-{d.pk}"}


@pytest.mark.django_db
def test_every_external_transport_carries_the_delivery_reference(gateway):
    email = _delivery("email")
    telegram = _delivery("telegram", telegram_chat_id="4242")
    assert services.delivery_attempt(delivery_id=email.pk) == "sent"
    assert services.delivery_attempt(delivery_id=telegram.pk) == "sent"
    assert mail.outbox[-1].extra_headers["Message-ID"].startswith(f"<delivery-{email.pk}@")
    [tg] = [r for r in gateway.requests if r["path"].endswith("/sendMessage")]
    assert tg["idempotency_key"] == f"delivery-{telegram.pk}"


@pytest.mark.django_db
def test_quiet_hours_defer_an_external_message_to_their_end_instead_of_dropping_it(gateway, settings):
    from datetime import datetime, timedelta

    from django.utils import timezone

    from hvaccrm.models import IntegrationLog
    from hvaccrm.services.outbox import outbox_due, outbox_process

    settings.OUTBOX_PUBLISH_ON_COMMIT = False
    now = timezone.localtime()
    start, end = (now - timedelta(hours=1)).time(), (now + timedelta(hours=1)).time()
    d = _delivery("sms", phone="+48600100200", quiet_start=start, quiet_end=end)
    assert d.state == "pending"  # held back, not skipped for good
    row = IntegrationLog.objects.get(kind="delivery.send", object_id=str(d.pk))
    until = timezone.make_aware(datetime.combine((now + timedelta(hours=1)).date(), end))
    assert abs((row.next_attempt_at - until).total_seconds()) < 1
    assert row.pk not in outbox_due(grace_seconds=0)
    assert outbox_process(log_id=row.pk) == "not_due" and gateway.requests == []
    IntegrationLog.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())  # the quiet hours end
    assert row.pk in outbox_due(grace_seconds=0)
    assert outbox_process(log_id=row.pk) == "succeeded"
    d.refresh_from_db()
    assert d.state == "sent" and len(gateway.requests) == 1
