"""Maintenance agreements, the one visit generator, closing a visit and F-gas certificates."""

from __future__ import annotations

import threading
from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import translation

from hvaccrm.errors import ServiceError
from hvaccrm.models import Agreement, Equipment, RefrigerantRecord, ServiceJob
from hvaccrm.services import (
    agreement_create,
    agreement_end,
    agreement_renew,
    job_assign,
    job_transition,
    maintenance_visits_plan,
    visit_move_to_day,
)
from hvaccrm.services.maintenance import season_window
from hvaccrm.tests.factories import ClientFactory, EquipmentFactory, SiteFactory, TechnicianFactory, district

pytestmark = pytest.mark.django_db
TODAY = date(2026, 2, 20)  # the cooling season (March-May) starts within the 60-day horizon


@pytest.fixture(autouse=True)
def _english():
    # The messages are asserted in English; the project's default language is Polish.
    with translation.override("en"):
        yield


@pytest.fixture
def tech():
    return TechnicianFactory(home_district=district("mokotow"), shift_start=time(8), shift_end=time(16),
                             skills=["split_ac", "heat_pump", "gas_boiler", "fgas_certified"])


def _leak_due_unit(**extra) -> Equipment:
    # 3 kg of R410A = 6.3 t CO2e: a yearly leak check, last done 11 months ago.
    return EquipmentFactory(refrigerant="R410A", refrigerant_charge_kg=Decimal("3.0"),
                            last_leak_check_on=TODAY - timedelta(days=340),
                            last_maintenance_on=TODAY - timedelta(days=100), **extra)


def _complete(job: ServiceJob, tech, report: dict | None = None) -> ServiceJob:
    job_assign(job=job, technician=tech)
    for status in ("en_route", "on_site"):
        job_transition(job=job, to_status=status)
    return job_transition(job=job, to_status="completed", report=report)


def _agreement(client=None, units=None, **extra) -> Agreement:
    client = client or ClientFactory()
    units = units or [EquipmentFactory(site=SiteFactory(client=client), kind="split_ac")]
    sites = list({u.site_id: u.site for u in units}.values())
    return agreement_create(client=client, sites=sites, equipment=units, starts_on=date(2026, 1, 1),
                            ends_on=date(2027, 1, 1), price=Decimal("450"), **extra)


# --- unit dates -----------------------------------------------------------------------------------


def test_completing_a_planned_visit_updates_the_units_dates_and_the_next_run_creates_nothing(tech):
    unit = _leak_due_unit()
    assert maintenance_visits_plan(today=TODAY)["created"] == 1
    job = ServiceJob.objects.get(equipment=unit)
    _complete(job, tech, {"work_done": "ok", "refrigerant": "R410A", "leak_check": "no_leak"})
    unit.refresh_from_db()
    assert unit.last_leak_check_on == unit.last_maintenance_on == date.today()
    # The nightly run after the completion (and any later night within a year) plans nothing for it.
    assert maintenance_visits_plan(today=date.today())["created"] == 0
    assert ServiceJob.objects.filter(equipment=unit).count() == 1


def test_an_office_completion_without_a_report_still_closes_the_maintenance_period(tech):
    unit = EquipmentFactory(kind="gas_boiler", refrigerant="", last_maintenance_on=TODAY - timedelta(days=355))
    maintenance_visits_plan(today=TODAY)
    _complete(ServiceJob.objects.get(equipment=unit), tech)
    unit.refresh_from_db()
    assert unit.last_maintenance_on == date.today()
    assert maintenance_visits_plan(today=date.today())["created"] == 0


# --- the generator --------------------------------------------------------------------------------


def test_the_generator_run_twice_creates_each_visit_once(tech):
    _leak_due_unit()
    agreement = _agreement()
    first = maintenance_visits_plan(today=TODAY)
    assert first["created"] == 2
    assert maintenance_visits_plan(today=TODAY)["created"] == 0
    visit = ServiceJob.objects.get(agreement=agreement)
    a, b = season_window(season="cooling", year=2026)
    assert visit.period_key == f"agr{agreement.pk}:2026:cooling" and a <= visit.requested_start.date() <= b


def test_units_under_an_agreement_get_agreement_visits_not_due_date_ones(tech):
    client = ClientFactory()
    unit = _leak_due_unit(site=SiteFactory(client=client))
    _agreement(client=client, units=[unit], visits_per_year=2)
    maintenance_visits_plan(today=TODAY)
    keys = list(ServiceJob.objects.filter(equipment=unit).values_list("period_key", flat=True))
    assert len(keys) == 1 and keys[0].endswith(":2026:cooling")  # heating season is beyond the horizon


def test_no_day_in_a_district_gets_more_visits_than_its_technicians_shift_hours(tech):
    # One technician of Mokotów, 8 hours: 8 one-hour visits a day at most.
    client = ClientFactory()
    site = SiteFactory(client=client)
    units = [EquipmentFactory(site=site, kind="split_ac") for _ in range(20)]
    _agreement(client=client, units=units)
    maintenance_visits_plan(today=date(2026, 5, 25), horizon_days=60)  # season's last 5 working days
    per_day: dict = {}
    for job in ServiceJob.objects.filter(district__slug="mokotow"):
        per_day[job.requested_start.date()] = per_day.get(job.requested_start.date(), 0) + 1
    assert per_day and max(per_day.values()) <= 8


@pytest.mark.django_db(transaction=True)
def test_the_generator_run_twice_at_once_creates_each_visit_once():
    TechnicianFactory(home_district=district("mokotow"))
    for _ in range(5):
        _leak_due_unit()
    _agreement()
    results, errors = [], []

    def run():
        try:
            results.append(maintenance_visits_plan(today=TODAY)["created"])
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == [0, 6]
    assert ServiceJob.objects.filter(period_key__isnull=False).count() == 6


# --- agreements -----------------------------------------------------------------------------------


def test_an_agreement_ending_before_it_starts_is_refused_and_nothing_is_saved():
    client = ClientFactory()
    site = SiteFactory(client=client)
    with pytest.raises(ServiceError, match="must end after it starts"):
        agreement_create(client=client, sites=[site], equipment=[EquipmentFactory(site=site)],
                         starts_on=date(2026, 5, 1), ends_on=date(2026, 4, 1), price=Decimal("100"))
    assert not Agreement.objects.exists()


def test_an_agreement_cannot_cover_another_clients_unit():
    client = ClientFactory()
    site = SiteFactory(client=client)
    with pytest.raises(ServiceError, match="sites"):
        agreement_create(client=client, sites=[site], equipment=[EquipmentFactory()],
                         starts_on=date(2026, 1, 1), ends_on=date(2027, 1, 1), price=Decimal("100"))
    assert not Agreement.objects.exists()


def test_renewing_starts_the_next_term_and_ending_cancels_its_unplanned_visits(tech):
    agreement = _agreement()
    renewal = agreement_renew(agreement=agreement)
    assert (renewal.starts_on, renewal.ends_on) == (date(2027, 1, 1), date(2028, 1, 1))
    assert list(renewal.equipment.all()) == list(agreement.equipment.all())
    maintenance_visits_plan(today=TODAY)
    agreement_end(agreement=agreement, on=TODAY)
    assert ServiceJob.objects.get(agreement=agreement).status == "cancelled"
    agreement.refresh_from_db()
    assert agreement.state == "ended" and agreement.ended_on == TODAY


def test_a_visit_cannot_be_moved_outside_its_season(tech):
    agreement = _agreement()
    maintenance_visits_plan(today=TODAY)
    visit = ServiceJob.objects.get(agreement=agreement)
    before = visit.requested_start
    with pytest.raises(ServiceError, match="belongs in that season"):
        visit_move_to_day(job=visit, day=date(2026, 7, 1), today=TODAY)
    visit.refresh_from_db()
    assert visit.requested_start == before
    moved = visit_move_to_day(job=visit, day=date(2026, 4, 15), today=TODAY)
    assert moved.requested_start.date() == date(2026, 4, 15)


# --- refrigerant records and certificates ---------------------------------------------------------


def _on_site_job(tech, unit):
    job = ServiceJob.objects.create(client_id=unit.site.client_id, site=unit.site, equipment=unit,
                                    service_type="repair", district=unit.site.district)
    job_assign(job=job, technician=tech)
    for status in ("en_route", "on_site"):
        job_transition(job=job, to_status=status)
    return job


def test_a_repaired_leak_yields_its_follow_up_check_within_a_month(tech):
    unit = _leak_due_unit()
    job = _on_site_job(tech, unit)
    job_transition(job=job, to_status="completed", report={
        "work_done": "brazed", "refrigerant": "R410A", "leak_check": "leak_found_repaired",
        "refrigerant_added_kg": "0.80", "leak_location": "flare nut, outdoor unit", "leak_repair": "new flare"})
    record = RefrigerantRecord.objects.get(job=job)
    assert (record.added_kg, record.leak_location, record.certificate_number) == (
        Decimal("0.80"), "flare nut, outdoor unit", tech.fgas_certificate_number)
    follow = ServiceJob.objects.get(period_key=f"followup:{job.pk}")
    assert follow.service_type == "inspection" and follow.requested_end.date() <= date.today() + timedelta(days=31)


@pytest.mark.parametrize(("report", "message"), [
    ({"refrigerant": "R410A", "refrigerant_added_kg": "-1"}, "between 0 and"),
    ({"refrigerant": "R410A", "refrigerant_recovered_kg": "5000"}, "between 0 and"),
    ({"refrigerant": "R32", "refrigerant_added_kg": "1"}, "uses R410A, not R32"),
])
def test_bad_refrigerant_quantities_or_gas_are_refused_and_nothing_is_saved(tech, report, message):
    unit = _leak_due_unit()
    job = _on_site_job(tech, unit)
    with pytest.raises(ServiceError, match=message):
        job_transition(job=job, to_status="completed", report={"work_done": "x", **report})
    job.refresh_from_db()
    unit.refresh_from_db()
    assert job.status == "on_site" and not RefrigerantRecord.objects.exists()
    assert unit.last_maintenance_on == TODAY - timedelta(days=100)


def test_an_expired_certificate_blocks_refrigerant_work_with_a_clear_message(tech):
    unit = _leak_due_unit()
    job = _on_site_job(tech, unit)
    tech.fgas_certificate_expires_on = date.today() - timedelta(days=1)
    tech.save()
    with pytest.raises(ServiceError, match="expired on .*no refrigerant work"):
        job_transition(job=job, to_status="completed", report={"refrigerant": "R410A", "refrigerant_added_kg": "1"})
    other = ServiceJob.objects.create(client_id=unit.site.client_id, site=unit.site, equipment=unit,
                                      service_type="repair")
    with pytest.raises(ServiceError, match="expired"):
        job_assign(job=other, technician=tech)
    assert ServiceJob.objects.get(pk=other.pk).technician_id is None


def test_a_category_iv_certificate_allows_leak_checks_only(tech):
    from hvaccrm.selectors import LEAK_CHECK, SERVICE, technician_can_do

    tech.fgas_certificate_category = "IV"
    unit = _leak_due_unit()
    assert technician_can_do(technician=tech, equipment=unit, work=LEAK_CHECK).ok
    verdict = technician_can_do(technician=tech, equipment=unit, work=SERVICE)
    assert not verdict.ok and "category IV" in verdict.reason
