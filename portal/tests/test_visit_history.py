"""The client's visit page shows the client-safe part of the job's history: status changes and
times, never the reasons staff typed, staff names or notes; another client's history never."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hvaccrm.models.jobs import JobStatus
from hvaccrm.services import job_assign, job_create, job_reschedule, job_transition
from hvaccrm.tests.factories import TechnicianFactory
from portal import selectors

pytestmark = pytest.mark.django_db

STAFF_REASONS = ("closest free hand ZX1", "client rang, moved ZX2", "office cancelled ZX3")


@pytest.fixture
def anna_job_with_history(client_anna, dispatcher):
    job = job_create(site=client_anna.sites.get(), service_type="repair", description="Nie chłodzi")
    start = timezone.now().replace(microsecond=0) + timedelta(days=2)
    job = job_assign(job=job, technician=TechnicianFactory(), scheduled_start=start,
                     scheduled_end=start + timedelta(hours=2), actor=dispatcher, reason=STAFF_REASONS[0])
    later = start + timedelta(days=1)
    job = job_reschedule(job=job, scheduled_start=later, scheduled_end=later + timedelta(hours=2),
                         actor=dispatcher, reason=STAFF_REASONS[1])
    return job_transition(job=job, to_status=JobStatus.CANCELLED, actor=dispatcher, reason=STAFF_REASONS[2])


def test_the_visit_page_shows_each_status_change_and_new_time_of_the_visit(anna_http, anna_job_with_history):
    job = anna_job_with_history
    page = anna_http.get(reverse("portal:visit", args=[job.pk])).content.decode()
    assert 'class="card visit-history"' in page
    history = page.split('class="card visit-history"', 1)[1]
    assert history.count('data-field="status"') == 3  # new, scheduled, cancelled
    assert history.count('data-field="scheduled"') == 2  # assigned for a time, then moved
    assert history.index(str(JobStatus.CANCELLED.label)) < history.index(str(JobStatus.NEW.label))  # newest first


def test_the_visit_history_never_shows_staff_reasons_names_or_notes(anna_http, anna_job_with_history, dispatcher):
    job = anna_job_with_history
    page = anna_http.get(reverse("portal:visit", args=[job.pk])).content.decode()
    for staff_only in (*STAFF_REASONS, dispatcher.username):
        assert staff_only not in page
    for entry in selectors.visit_history(job):
        assert set(entry) <= {"at", "status", "scheduled", "requested", "completed"}


def test_another_clients_visit_history_is_not_shown(bartek_http, client_bartek, anna_job_with_history):
    job = anna_job_with_history
    assert bartek_http.get(reverse("portal:visit", args=[job.pk])).status_code == 404
    own = job_create(site=client_bartek.sites.get(), service_type="inspection", description="Przegląd")
    page = bartek_http.get(reverse("portal:visit", args=[own.pk])).content.decode()
    history = page.split('class="card visit-history"', 1)[1]
    assert history.count('data-field="status"') == 1  # only his own job's creation
    assert 'data-field="scheduled"' not in history
