"""Drag-to-assign on the day board: a held slot [start, start + duration) per technician, checked
for skills and certificates, and a database that refuses double booking even under a race."""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from hvaccrm.closed_days import day_is_closed
from hvaccrm.errors import ServiceError
from hvaccrm.models import ServiceJob
from hvaccrm.models.jobs import JobStatus
from hvaccrm.tests.factories import EquipmentFactory, ServiceJobFactory, SiteFactory, TechnicianFactory, district
from mapping.services import job_assign_slot


def _day():
    day = timezone.localdate() + timedelta(days=2)
    while day.weekday() >= 5 or day_is_closed(day):
        day += timedelta(days=1)
    return day


def at(hour, minute=0):
    return timezone.make_aware(datetime.combine(_day(), time(hour, minute)))


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def tech(db):
    return TechnicianFactory(home_district=district("mokotow"), skills=["split_ac"], shift_start=time(8),
                             shift_end=time(16))


@pytest.mark.django_db
def test_a_placed_job_holds_start_to_start_plus_its_duration_and_is_pinned(tech, dispatcher):
    job = ServiceJobFactory(estimated_duration_min=90)
    job = job_assign_slot(job=job, technician=tech, start=at(10), actor=dispatcher)
    assert (job.scheduled_start, job.scheduled_end) == (at(10), at(11, 30))
    assert job.slot_held and job.pinned_at and job.technician == tech and job.status == JobStatus.SCHEDULED


@pytest.mark.django_db
def test_an_overlapping_slot_is_refused_with_a_clear_message_and_nothing_changes(tech, dispatcher):
    job_assign_slot(job=ServiceJobFactory(estimated_duration_min=60), technician=tech, start=at(10), actor=dispatcher)
    second = ServiceJobFactory(estimated_duration_min=60)
    with pytest.raises(ServiceError) as err:
        job_assign_slot(job=second, technician=tech, start=at(10, 30), actor=dispatcher)
    assert err.value.code == "slot_taken" and "already has a job between 10:30 and 11:30" in err.value.message
    second.refresh_from_db()
    assert second.technician_id is None and second.status == JobStatus.NEW and not second.slot_held
    # touching is not overlapping: [10:00, 11:00) and [11:00, 12:00)
    assert job_assign_slot(job=second, technician=tech, start=at(11), actor=dispatcher).slot_held


@pytest.mark.django_db
def test_a_technician_without_the_skill_or_certificate_is_refused(tech, dispatcher):
    boiler = ServiceJobFactory(equipment=EquipmentFactory(site=SiteFactory(), kind="gas_boiler", refrigerant=""))
    with pytest.raises(ServiceError) as err:
        job_assign_slot(job=boiler, technician=tech, start=at(9), actor=dispatcher)
    assert err.value.code == "slot_skills"
    uncertified = TechnicianFactory(skills=["split_ac"], fgas_certificate_number="")
    split = ServiceJobFactory(equipment=EquipmentFactory(site=SiteFactory(), kind="split_ac", refrigerant="R32"))
    with pytest.raises(ServiceError):
        job_assign_slot(job=split, technician=uncertified, start=at(9), actor=dispatcher)
    assert not ServiceJob.objects.filter(technician__isnull=False).exists()


@pytest.mark.django_db
def test_a_slot_in_the_past_is_refused(tech, dispatcher):
    with pytest.raises(ServiceError) as err:
        job_assign_slot(job=ServiceJobFactory(), technician=tech, start=timezone.now() - timedelta(hours=1),
                        actor=dispatcher)
    assert err.value.code == "slot_past"


@pytest.mark.django_db
def test_the_board_places_a_dropped_job_and_answers_an_overlap_with_409(tech, dispatcher):
    http = Client()
    http.force_login(dispatcher)
    first, second = ServiceJobFactory(), ServiceJobFactory()
    url = reverse("mapping:board_place")
    ok = http.post(url, {"job": first.pk, "technician": tech.pk, "start": f"{_day():%Y-%m-%d}T09:00"})
    assert ok.status_code == 200 and ok.json()["ok"] is True
    clash = http.post(url, {"job": second.pk, "technician": tech.pk, "start": f"{_day():%Y-%m-%d}T09:15"})
    assert clash.status_code == 409 and clash.json()["code"] == "slot_taken" and clash.json()["error"]
    assert http.post(url, {"job": second.pk}).status_code == 400


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_placing_one_technician_at_the_same_moment_one_wins_the_other_is_told(tech, dispatcher):
    jobs = [ServiceJobFactory(estimated_duration_min=60), ServiceJobFactory(estimated_duration_min=60)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def place(job, start):
        try:
            barrier.wait()
            job_assign_slot(job=job, technician=tech, start=start, actor=dispatcher)
            outcomes.append("ok")
        except ServiceError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=place, args=(jobs[0], at(13))),
               threading.Thread(target=place, args=(jobs[1], at(13, 30)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["ok", "slot_taken"]
    assert ServiceJob.objects.filter(technician=tech, slot_held=True).count() == 1
