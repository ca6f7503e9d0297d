"""The flows with a real Celery worker process on real Redis (not eager): a message reaches the
map, the vector store and the district's technicians; with the worker stopped the rows wait,
and the sweep completes them once a worker runs; a switched-off target waits and resumes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from conftest import database_url_for_test_db
from hvaccrm.celery import app as celery_app
from hvaccrm.models import IntegrationLog
from hvaccrm.services import outbox
from hvaccrm.tests.celery_support import celery_published

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
EMERGENCY = "Klimatyzacja nie chłodzi, serwerownia się przegrzewa!"


class Worker:
    """`celery -A hvaccrm worker` on the test database and a queue of its own, plus this run's
    emergency queue (emergency rows are routed there by their contract, never to the default)."""

    def __init__(self, queue: str) -> None:
        self.queue = queue
        self.proc: subprocess.Popen | None = None
        self.log = ROOT / "var" / f"worker-{queue}.log"

    def start(self) -> None:
        env = {**os.environ, "DATABASE_URL": database_url_for_test_db(),
               "CELERY_QUEUE": self.queue, "CELERY_TASK_ALWAYS_EAGER": "false", "TESTING": "true", "DEBUG": "true",
               "CACHE_KEY_PREFIX": django_settings.CACHES["default"]["KEY_PREFIX"],
               "CHANNEL_PREFIX": django_settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]}
        self.log.parent.mkdir(exist_ok=True)
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "hvaccrm", "worker", "-Q", f"{self.queue},{django_settings.CELERY_EMERGENCY_QUEUE}",
             "-c", "1", "-P", "solo",
             "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "INFO",
             "-n", f"audit-test-{uuid.uuid4().hex[:6]}@%h"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


@pytest.fixture
def worker(settings):
    queue = f"audit-worker-{uuid.uuid4().hex[:8]}"
    with celery_published(settings, queue=queue):
        w = Worker(queue)
        w.start()
        yield w
        w.stop()
    # The worker's database session ends a moment after its process: wait for it, so the test
    # database can be dropped at the end of the run.
    deadline = time.monotonic() + 10
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid()")
            if cursor.fetchone()[0] == 0:
                break
            time.sleep(0.2)
    with celery_app.connection_for_write() as conn:  # leave no queue behind in Redis
        conn.default_channel.queue_delete(queue)
        # a task in flight when the worker stopped is put back; the queue's binding keys stay too
        conn.default_channel.client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


def wait_for(predicate, *, timeout: float = 60.0, what: str = "", worker: Worker | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}\n{worker.tail() if worker else ''}")


def message_rows(message_id: int) -> dict:
    return {(r.target, r.kind): r.state for r in IntegrationLog.objects.filter(
        object_type="communications.message", object_id=str(message_id))}


ALL_DONE = {("prophecy", "message.created"): "succeeded", ("map", "message.created"): "succeeded",
            ("notifications", "emergency.alert"): "succeeded"}


def test_a_worker_process_completes_the_message_flow_and_the_sweep_completes_what_waited(
        worker, anna_user, anna_conversation, anna_job, technician_mokotow, settings):
    from communications.models import EmergencyAlert, Notification
    from communications.services import message_send
    from prophecy.selectors import vector_exists

    message = message_send(author=anna_user, conversation_id=anna_conversation.pk, body=EMERGENCY,
                           latitude=52.1935, longitude=21.0260)
    wait_for(lambda: message_rows(message.pk) == ALL_DONE, what="the message's three rows", worker=worker)
    assert vector_exists(object_type="communications.message", object_id=str(message.pk))
    anna_job.refresh_from_db()
    assert anna_job.latitude == 52.1935
    alert = EmergencyAlert.objects.get(message=message)
    assert Notification.objects.filter(recipient=technician_mokotow.user, related_id=str(alert.pk)).exists()

    # The worker is stopped and the publish after commit is lost: the rows wait as pending.
    worker.stop()
    settings.OUTBOX_PUBLISH_ON_COMMIT = False
    waiting = message_send(author=anna_user, conversation_id=anna_conversation.pk, body=EMERGENCY)
    settings.OUTBOX_PUBLISH_ON_COMMIT = True
    time.sleep(1.0)
    assert set(message_rows(waiting.pk).values()) == {"pending"}
    # A worker runs again; the rows still wait until the sweep publishes them.
    worker.start()
    time.sleep(2.0)
    assert set(message_rows(waiting.pk).values()) == {"pending"}
    assert outbox.outbox_sweep(grace_seconds=0) >= 2
    wait_for(lambda: set(message_rows(waiting.pk).values()) == {"succeeded"}, what="the swept rows", worker=worker)


def test_a_switched_off_target_waits_with_a_worker_running_and_resumes_when_switched_on(
        worker, anna_user, anna_conversation, technician_mokotow):
    from communications.services import message_send

    outbox.integration_switch_set(target="map", enabled=False, reason="release check")
    message = message_send(author=anna_user, conversation_id=anna_conversation.pk, body=EMERGENCY,
                           latitude=52.1935, longitude=21.0260)
    wait_for(lambda: message_rows(message.pk).get(("prophecy", "message.created")) == "succeeded",
             what="the vector row", worker=worker)
    wait_for(lambda: message_rows(message.pk).get(("notifications", "emergency.alert")) == "succeeded",
             what="the alert row", worker=worker)
    time.sleep(1.0)
    assert message_rows(message.pk)[("map", "message.created")] == "pending"
    assert outbox.outbox_sweep(grace_seconds=0) == 0  # the sweep leaves a switched-off target alone
    outbox.integration_switch_set(target="map", enabled=True)
    wait_for(lambda: message_rows(message.pk) == ALL_DONE, what="the map row after switching on", worker=worker)
