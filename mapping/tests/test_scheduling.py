from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from hvaccrm.errors import ServiceError
from hvaccrm.models import ServiceJob
from hvaccrm.tests.factories import EquipmentFactory, ServiceJobFactory, SiteFactory, TechnicianFactory, district
from mapping.models import SlotProposal
from mapping.services import day_plan, maintenance_jobs_create, slot_accept, slot_propose
from mapping.tasks import maintenance_jobs_create as maintenance_task

pytestmark = pytest.mark.django_db


def at(day, hour, minute=0):
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@pytest.fixture
def day():
    return timezone.localdate() + timedelta(days=1)


@pytest.fixture
def techs(db):
    return [
        TechnicianFactory(home_district=district("mokotow"), skills=["split_ac"], shift_start=time(8), shift_end=time(16)),
        TechnicianFactory(home_district=district("wola"), skills=["split_ac", "gas_boiler"], shift_start=time(8),
                          shift_end=time(16)),
    ]


def test_a_new_booking_gets_slots_that_fit_the_days_plans(techs, day):
    busy = ServiceJobFactory(requested_start=at(day, 8), requested_end=at(day, 9), estimated_duration_min=240,
                             site=SiteFactory(latitude=52.19, longitude=21.02, district=district("mokotow")))
    day_plan(day=day, reason="test")
    booking = ServiceJobFactory(requested_start=at(day, 8), requested_end=at(day, 16), estimated_duration_min=60)
    proposals = slot_propose(job=booking, days=2, count=3)
    assert 1 <= len(proposals) <= 3
    assert [p.rank for p in proposals] == list(range(1, len(proposals) + 1))
    busy.refresh_from_db()
    for p in proposals:
        assert p.end - p.start == timedelta(minutes=60)
        assert at(day, 8) <= p.start and p.end <= at(day, 16) + timedelta(minutes=60)
        if p.technician_id == busy.technician_id and p.start.date() == day:
            # never on top of the planned visit
            stop = busy.route_stops.get()
            assert p.end <= stop.service_start or p.start >= stop.service_end
    assert len({(p.technician_id, timezone.localdate(p.start)) for p in proposals}) == len(proposals)


def test_only_technicians_with_the_skill_are_proposed(techs, day):
    site = SiteFactory()
    boiler = EquipmentFactory(site=site, kind="gas_boiler", refrigerant="")
    job = ServiceJobFactory(site=site, equipment=boiler, requested_start=at(day, 8), requested_end=at(day, 16))
    assert {p.technician_id for p in slot_propose(job=job)} == {techs[1].pk}


def test_the_dispatcher_accepts_a_proposal_in_the_admin_and_the_job_is_scheduled(techs, day, administrator):
    job = ServiceJobFactory(requested_start=at(day, 8), requested_end=at(day, 16))
    first = slot_propose(job=job)[0]
    c = Client()
    c.force_login(administrator)
    response = c.post("/admin/mapping/slotproposal/", {"action": "accept", "_selected_action": [first.pk]})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "scheduled" and job.technician_id == first.technician_id
    assert (job.scheduled_start, job.scheduled_end) == (first.start, first.end)
    assert list(SlotProposal.objects.filter(job=job).values_list("pk", flat=True)) == [first.pk]
    with pytest.raises(ServiceError) as exc:
        slot_accept(proposal=first)
    assert exc.value.code == "already_accepted"


def test_maintenance_jobs_are_created_for_units_falling_due_within_30_days_once(techs):
    today = date(2026, 5, 4)
    # 3 kg of R410A = 6.3 t CO2e: a yearly leak check, last done 11 months ago
    due = EquipmentFactory(refrigerant="R410A", refrigerant_charge_kg=Decimal("3.0"),
                           last_leak_check_on=today - timedelta(days=340), last_maintenance_on=today - timedelta(days=100))
    boiler = EquipmentFactory(kind="gas_boiler", refrigerant="", last_maintenance_on=today - timedelta(days=350))
    fresh = EquipmentFactory(last_maintenance_on=today - timedelta(days=30))
    result = maintenance_jobs_create(today=today)
    assert result["created"] == 2
    jobs = {j.equipment_id: j for j in ServiceJob.objects.filter(source="system")}
    assert set(jobs) == {due.pk, boiler.pk} and fresh.pk not in jobs
    assert jobs[due.pk].service_type == "inspection"
    assert any(word in jobs[due.pk].description.lower() for word in ("leak check", "szczelno"))
    assert jobs[boiler.pk].service_type == "maintenance"
    assert maintenance_jobs_create(today=today)["created"] == 0


def test_the_beat_task_runs_the_service(techs):
    EquipmentFactory(kind="gas_boiler", refrigerant="", last_maintenance_on=timezone.localdate() - timedelta(days=360))
    assert maintenance_task.delay().get()["created"] == 1
