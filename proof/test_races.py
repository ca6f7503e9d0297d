"""Suite 4, races (issue 20): eight threads released together by a barrier, on the real
PostgreSQL; one winner each, a clear error for the rest, never a 500 or a second effect."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter

import pytest
from django.db import connections, transaction
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from hvaccrm.models import IntegrationLog, JobFeedback
from hvaccrm.services import job_transition
from hvaccrm.services import outbox as outbox_module
from hvaccrm.services.outbox import outbox_handler, outbox_process, record
from hvaccrm.tests.factories import ServiceJobFactory, TechnicianFactory

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = int(os.environ.get("PROOF_RACE_THREADS", "8"))


def race(fn, n: int = THREADS) -> tuple[list, float]:
    """Run fn(i) in n threads released together; [its result or the exception it raised], seconds."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = fn(i)
        except Exception as exc:  # the losers' errors are what the test reads
            results[i] = exc
        finally:
            connections.close_all()

    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results, time.monotonic() - started


def _kinds(results: list) -> Counter:
    return Counter(type(r).__name__ if isinstance(r, Exception) else "ok" for r in results)


def test_eight_transitions_of_one_job_have_one_winner(client_anna):
    job = ServiceJobFactory(site=client_anna.sites.get(), status="scheduled", technician=TechnicianFactory())
    before = IntegrationLog.objects.filter(object_id=str(job.pk), kind="job.updated").count()
    results, seconds = race(lambda i: job_transition(job=job, to_status="en_route"))
    kinds = _kinds(results)
    print(f"\nPROOF race job_transition: {dict(kinds)} in {seconds:.2f} s")
    assert kinds["ok"] == 1 and kinds["IllegalTransition"] == THREADS - 1
    rows = IntegrationLog.objects.filter(object_id=str(job.pk), kind="job.updated").count() - before
    assert rows == 2  # one transition's notifications and map rows, not eight


def test_eight_workers_on_one_outbox_row_run_its_handler_once():
    runs: list[int] = []
    saved = dict(outbox_module._handlers)

    @outbox_handler("audit", "proof.slow")
    def slow(row):
        runs.append(row.pk)
        time.sleep(0.2)  # long enough for every other worker to arrive while it runs
        return {"ok": True}

    try:
        with transaction.atomic():
            row = record(source="proof", target="audit", kind="proof.slow", object_type="proof", object_id=1)
        results, seconds = race(lambda i: outbox_process(log_id=row.pk))
    finally:
        outbox_module._handlers.clear()
        outbox_module._handlers.update(saved)
    states = Counter(results)
    print(f"\nPROOF race outbox row: handler runs {len(runs)}, answers {dict(states)} in {seconds:.2f} s")
    assert runs == [row.pk] and states["succeeded"] >= 1 and set(states) <= {"succeeded", "busy"}
    row.refresh_from_db()
    # A worker that counted an attempt and then found another's count ahead stands down ("busy").
    assert row.state == "succeeded" and 1 <= row.attempts <= THREADS


def test_double_feedback_has_one_winner_and_a_400_for_the_rest(anna_user, client_anna):
    job = ServiceJobFactory(site=client_anna.sites.get(), client=client_anna, status="completed",
                            completed_at=timezone.now())
    url = reverse("portal:feedback", args=[job.pk])

    def give(i: int) -> int:
        http = HttpClient(raise_request_exception=False)
        http.force_login(anna_user)
        return http.post(url, {"rating": 1 + i % 5, "comment": "x"}).status_code

    results, seconds = race(give)
    print(f"\nPROOF race feedback: {dict(Counter(results))} in {seconds:.2f} s")
    assert sorted(results) == [302] + [400] * (THREADS - 1)
    assert JobFeedback.objects.filter(job=job).count() == 1


