"""The cross-system flows of test_flows.py on a real Celery worker process and real Redis, not
eagerly (issue 20): the test commits, the publish after commit reaches the worker's queue, and
only the worker runs the handlers. The message flow and the switched-off target are in
audit/tests/test_worker.py; here the job's life, from a portal booking to its completion,
feedback and a forecast hotspot, one worker for all of them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from audit.tests.test_worker import wait_for, worker  # noqa: F401 (the fixture)
from hvaccrm.models import IntegrationLog
from hvaccrm.services import outbox
from hvaccrm.services.jobs import job_create, job_feedback_give, job_transition
from integration.tests.conftest import rows_of

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _states(object_type: str, object_id) -> dict:
    return {k: r.state for k, r in rows_of(object_type, object_id).items()}


def test_a_job_s_life_flows_through_a_real_worker(worker, client_anna, anna_user, manager,  # noqa: F811
                                                   technician_mokotow):
    from communications.models import Notification
    from prophecy.selectors import vector_exists

    start = timezone.now() + timedelta(days=5)
    job = job_create(site=client_anna.sites.get(), service_type="installation", source="portal",
                     description="Montaż klimatyzacji w sypialni", requested_start=start,
                     requested_end=start + timedelta(hours=2))
    booked = {("portal", "booking.created"), ("map", "job.created"), ("notifications", "job.created")}
    wait_for(lambda: all(_states("hvaccrm.servicejob", job.pk).get(k) == "succeeded" for k in booked),
             what="the booking's rows", worker=worker)
    assert vector_exists(object_type="hvaccrm.servicejob", object_id=str(job.pk))
    assert Notification.objects.filter(recipient=technician_mokotow.user, kind="booking.created").exists()

    job.refresh_from_db()
    if job.status != "scheduled":  # the worker's re-plan of the day may have scheduled it already
        job = job_transition(job=job, to_status="scheduled", technician=technician_mokotow)
    for status in ("en_route", "on_site"):
        job = job_transition(job=job, to_status=status)
    job = job_transition(job=job, to_status="completed", report={"work_done": "Wymieniono czujnik temperatury"})
    wait_for(lambda: _states("hvaccrm.servicejob", job.pk).get(("prophecy", "job.completed")) == "succeeded",
             what="the completed job's vector row", worker=worker)
    low = job_feedback_give(job=job, rating=2, comment="Spóźnienie dwie godziny")
    with transaction.atomic():
        outbox.record(source="prophecy", target="notifications", kind="prophecy.alert",
                      object_type="prophecy.prediction", object_id=41,
                      payload={"prediction": 41, "district": "Wilanów", "district_slug": "wilanow",
                               "predictedDemand": 0.92, "confidence": 0.88,
                               "serviceTypes": ["installation"], "week_start": "2026-11-30"})
    wait_for(lambda: not IntegrationLog.objects.exclude(state="succeeded").exists(),
             what="every row of the job's life", worker=worker)
    assert vector_exists(object_type="hvaccrm.servicejob", object_id=str(job.pk))
    told = Notification.objects.filter(recipient=anna_user, related_id=str(job.pk))
    assert told.exists()  # the job's updates reached the client
    assert list(Notification.objects.filter(recipient=manager, kind="feedback.low")
                .values_list("related_id", flat=True)) == [str(low.pk)]
    assert Notification.objects.filter(recipient=manager, kind="prophecy.alert", related_id="41").exists()
