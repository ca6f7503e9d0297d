"""Suite 5, poison (issue 20): a row whose handler exits the worker process ends dead after its
attempts, with a real Celery worker process (solo pool: the handler takes the whole worker down),
restarted after each death as a supervisor would; the sweep hands the row back each time."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import transaction

from conftest import database_url_for_test_db
from hvaccrm.celery import app as celery_app
from hvaccrm.services.outbox import outbox_sweep, record
from hvaccrm.tests.celery_support import celery_published

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[1]
ATTEMPTS = int(os.environ.get("PROOF_POISON_ATTEMPTS", "3"))


def _worker(queue: str, log: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url_for_test_db(), "CELERY_QUEUE": queue,
           "CELERY_TASK_ALWAYS_EAGER": "false", "TESTING": "true", "DEBUG": "true",
           "OUTBOX_MAX_ATTEMPTS": str(ATTEMPTS),
           "CACHE_KEY_PREFIX": django_settings.CACHES["default"]["KEY_PREFIX"]}
    return subprocess.Popen(  # noqa: S603 - our own worker command
        [sys.executable, "-m", "celery", "-A", "proof.faults_worker", "worker", "-Q", queue, "-c", "1", "-P", "solo",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "INFO",
         "-n", f"proof-poison-{uuid.uuid4().hex[:6]}@%h"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def test_a_handler_that_exits_the_worker_ends_dead_after_its_attempts(settings, tmp_path):
    settings.OUTBOX_MAX_ATTEMPTS = ATTEMPTS
    settings.OUTBOX_PUBLISH_ON_COMMIT = False  # published below, once a worker listens
    queue = f"proof-poison-{uuid.uuid4().hex[:8]}"
    restore = ExitStack()
    restore.enter_context(celery_published(settings, queue=queue))
    log = tmp_path / "worker.log"
    with transaction.atomic():
        row = record(source="proof", target="audit", kind="proof.exit", object_type="proof", object_id=1)
    started, deaths = time.monotonic(), 0
    try:
        for _ in range(ATTEMPTS + 2):
            worker = _worker(queue, log)
            outbox_sweep(grace_seconds=0)  # hands the row (back) to the queue
            deadline = time.monotonic() + 60
            while worker.poll() is None and time.monotonic() < deadline:
                row.refresh_from_db()
                if row.state == "dead":
                    break  # the worker lives: it parked the row instead of running it
                time.sleep(0.3)
            code = worker.poll()
            deaths += code is not None
            row.refresh_from_db()
            if row.state == "dead":
                break
            assert code == 3, log.read_text(errors="replace")[-2000:]
        else:
            pytest.fail(f"the row never became dead: {row.state}, {row.attempts} attempts")
    finally:
        if worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=20)
        restore.close()
        with celery_app.connection_for_write() as conn:
            conn.default_channel.client.delete(queue, f"_kombu.binding.{queue}")
    elapsed = time.monotonic() - started
    print(f"\nPROOF poison: worker deaths {deaths}, row {row.state} after {row.attempts} attempts "
          f"(max {ATTEMPTS}), {elapsed:.1f} s")
    assert row.state == "dead" and row.attempts == ATTEMPTS and deaths == ATTEMPTS
    assert "worker stopped" in row.error
