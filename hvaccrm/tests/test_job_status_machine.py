from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from hvaccrm.errors import IllegalTransition, ServiceError
from hvaccrm.models import IntegrationLog, ServiceJob
from hvaccrm.models.jobs import TRANSITIONS, JobStatus
from hvaccrm.services import job_transition
from hvaccrm.tests.factories import ServiceJobFactory, TechnicianFactory

pytestmark = pytest.mark.django_db(transaction=False)

ALL = [s.value for s in JobStatus]
LEGAL = sorted((a, b) for a, targets in TRANSITIONS.items() for b in targets)  # sets: a fixed order for xdist
ILLEGAL = [(a, b) for a, b in itertools.product(ALL, ALL) if b not in TRANSITIONS[a]]


def _job_in(status: str) -> ServiceJob:
    tech = TechnicianFactory()
    return ServiceJobFactory(status=status, technician=None if status == "new" else tech)


@pytest.mark.parametrize(("current", "target"), LEGAL)
def test_every_legal_move_changes_status_records_outbox_and_emits_job_updated(current, target, django_capture_on_commit_callbacks):
    job = _job_in(current)
    tech = TechnicianFactory() if current == "new" and target == "scheduled" else None
    with django_capture_on_commit_callbacks() as callbacks:
        job = job_transition(job=job, to_status=target, technician=tech)
    assert ServiceJob.objects.get(pk=job.pk).status == target
    rows = IntegrationLog.objects.filter(object_id=str(job.pk), kind="job.updated")
    assert sorted(rows.values_list("target", flat=True)) == ["map", "notifications"]
    completed = IntegrationLog.objects.filter(object_id=str(job.pk), kind="job.completed")
    assert list(completed.values_list("target", flat=True)) == (["prophecy"] if target == "completed" else [])
    assert rows.first().payload["previous_status"] == current
    assert len(callbacks) >= 1  # the push and the publish wait for the commit


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_every_illegal_move_raises_and_changes_nothing(current, target):
    job = _job_in(current)
    before = IntegrationLog.objects.count()
    with pytest.raises(IllegalTransition):
        job_transition(job=job, to_status=target)
    assert ServiceJob.objects.get(pk=job.pk).status == current
    assert IntegrationLog.objects.count() == before


def test_scheduling_a_new_job_without_a_technician_is_refused():
    job = _job_in("new")
    with pytest.raises(ServiceError) as refused:
        job_transition(job=job, to_status="scheduled")
    assert "technician" in refused.value.fields
    assert ServiceJob.objects.get(pk=job.pk).status == "new"


def test_database_refuses_a_window_that_ends_before_it_starts():
    job = _job_in("new")
    job.requested_end = job.requested_start = None
    from django.utils import timezone

    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceJob.objects.filter(pk=job.pk).update(requested_start=now, requested_end=now.replace(year=now.year - 1))


def test_bad_nip_is_refused_by_validation_and_database():
    from hvaccrm.models import Client

    client = Client(kind="business", name="Firma", nip="1234567890")
    with pytest.raises(ValidationError):
        client.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        Client.objects.create(kind="business", name="Firma bez NIP", nip="")
    ok = Client(kind="business", name="Firma OK", nip="PL 526-025-09-95")
    ok.full_clean()  # normalises and accepts a valid NIP
    assert ok.nip == "5260250995"
