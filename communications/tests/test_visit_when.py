"""No notification shows "?" for a date: the booked start, the plan's time, else the job's window."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone, translation

from communications.models import Notification
from communications.services.jobs import job_update_notify, visit_when
from hvaccrm.models.jobs import JobStatus
from hvaccrm.tests.factories import ServiceJobFactory, TechnicianFactory

pytestmark = pytest.mark.django_db


def _window_job(**extra):
    a = timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=3), time(8)))
    return ServiceJobFactory(requested_start=a, requested_end=a + timedelta(hours=4), **extra)


def test_a_job_the_plan_has_not_timed_reads_as_its_date_and_window():
    job = _window_job()
    a = timezone.localtime(job.requested_start)
    assert visit_when(job) == f"{a:%d.%m.%Y}, 08:00–12:00"


def test_the_plans_arrival_time_is_shown_when_there_is_no_booked_start():
    job = _window_job()
    job.eta = job.requested_start + timedelta(minutes=90)
    assert visit_when(job).endswith("09:30")


def test_a_job_without_any_date_is_promised_a_confirmation_not_a_question_mark():
    with translation.override("en"):
        assert "?" not in visit_when(ServiceJobFactory(requested_start=None, requested_end=None))


def test_the_confirmation_of_an_optimiser_assignment_shows_the_date_and_window(anna_user, client_anna):
    job = _window_job(client=client_anna, site=client_anna.sites.first())
    job.technician = TechnicianFactory()
    job.status = JobStatus.SCHEDULED
    job.save()
    job_update_notify(job_id=job.pk, change="assignment", previous_status=JobStatus.NEW, dedupe_key="t:1")
    body = Notification.objects.get(recipient=anna_user, kind="job.confirmed").body
    assert "?" not in body and timezone.localtime(job.requested_start).strftime("%d.%m.%Y") in body and "08:00" in body
