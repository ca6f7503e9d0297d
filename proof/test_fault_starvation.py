"""Suite 5's other half, starvation (issue 20): an emergency sent while 2,000 vector-sync rows wait
on the default queue is alerted first, by the emergency queue's own worker (docs/emergency.md),
not after the backlog. Two real Celery workers start together once everything is queued."""

from __future__ import annotations

import time
from contextlib import ExitStack

import pytest
from django.conf import settings as django_settings
from django.db import transaction

from hvaccrm.tests.celery_support import celery_published
from proof.faults_support import (
    EMERGENCY,
    FULL,
    NORMAL,
    Worker,
    burst_world,
    queues_purge,
    sessions_wait_gone,
    wait_for,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True),
              pytest.mark.timeout(900 if FULL else 600)]
BACKLOG = 2000


def _vector_backlog(*, author, conversation_id: int) -> list[int]:
    """BACKLOG (prophecy, message.created) rows of one message: the vector store's sync, as a
    repair run or a burst of messages leaves them."""
    from communications.services import message_send
    from communications.services.messages import message_outbox_payloads
    from hvaccrm.services.outbox import record

    message = message_send(author=author, conversation_id=conversation_id, body=NORMAL)
    payload = message_outbox_payloads(message)[("prophecy", "message.created")]
    with transaction.atomic():
        return [record(source="communications", target="prophecy", kind="message.created", obj=message,
                       payload=payload).pk for _ in range(BACKLOG)]


def test_an_emergency_behind_two_thousand_vector_syncs_is_alerted_first(settings, tmp_path):
    from communications.models import EmergencyAlert
    from communications.services import conversation_start, message_send
    from hvaccrm.models import IntegrationLog
    from hvaccrm.services.outbox import outbox_publish

    restore = ExitStack()
    restore.enter_context(celery_published(settings))
    default_q, emergency_q = django_settings.CELERY_TASK_DEFAULT_QUEUE, django_settings.CELERY_EMERGENCY_QUEUE
    workers = [Worker(queues=[default_q], log=tmp_path / "default.log", name="proof-default"),
               Worker(queues=[emergency_q], log=tmp_path / "emergency.log", name="proof-emergency")]
    client, user, _site = burst_world(districts=("mokotow",))["mokotow"]
    conversation = conversation_start(author=user, client_id=client.pk, subject="Serwis")
    try:
        settings.OUTBOX_PUBLISH_ON_COMMIT = False
        backlog = _vector_backlog(author=user, conversation_id=conversation.pk)
        settings.OUTBOX_PUBLISH_ON_COMMIT = True
        queued = time.monotonic()
        outbox_publish(log_ids=backlog)  # the default queue: 2,000 syncs ahead of anything new
        published = time.monotonic() - queued
        message = message_send(author=user, conversation_id=conversation.pk, body=EMERGENCY)
        sent = time.monotonic()
        for w in workers:
            w.start()
        wait_for(lambda: EmergencyAlert.objects.filter(message=message).exists(), timeout=180,
                 what="the emergency's alert", every=0.1, tail=lambda: workers[1].tail())
        alerted = time.monotonic() - sent
        synced = IntegrationLog.objects.filter(pk__in=backlog, state="succeeded").count()
    finally:
        for w in workers:
            w.stop()
        restore.close()
        sessions_wait_gone()
        queues_purge([default_q, emergency_q])
    print(f"\nPROOF starvation: {BACKLOG} vector-sync rows queued in {published:.1f} s; the emergency sent after "
          f"them was alerted {alerted:.1f} s after both workers started, with {synced} of the {BACKLOG} syncs done")
    assert synced < BACKLOG // 2, "the alert waited behind the vector syncs"
