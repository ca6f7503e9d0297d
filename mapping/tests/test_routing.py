from __future__ import annotations

import json
from datetime import datetime, time, timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from hvaccrm.models import ServiceJob
from hvaccrm.realtime import groups as g
from hvaccrm.services import job_assign, job_transition
from hvaccrm.tests.factories import EquipmentFactory, ServiceJobFactory, SiteFactory, TechnicianFactory, district
from mapping.models import DayPlan, RouteStop, UnassignedJob
from mapping.services import day_plan, day_replan, job_locate
from mapping.tests.realtime import events_to_group

pytestmark = pytest.mark.django_db

PLACES = [(52.2300, 20.9830, "wola"), (52.2190, 20.9850, "ochota"), (52.1880, 21.0230, "mokotow"),
          (52.2318, 21.0060, "srodmiescie"), (52.2690, 20.9850, "zoliborz"), (52.1400, 21.0580, "ursynow"),
          (52.2350, 21.0850, "praga-poludnie"), (52.1650, 21.0900, "wilanow")]


def at(day, hour, minute=0):
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def make_job(day, i, *, hour=9, span=3, equipment_kind=None, urgency="normal", priority=50):
    lat, lng, slug = PLACES[i % len(PLACES)]
    site = SiteFactory(latitude=lat + 0.001 * i, longitude=lng, district=district(slug))
    equipment = EquipmentFactory(site=site, kind=equipment_kind, refrigerant="") if equipment_kind else None
    return ServiceJobFactory(site=site, equipment=equipment, urgency=urgency, priority=priority,
                             requested_start=at(day, hour), requested_end=at(day, hour + span),
                             estimated_duration_min=45)


@pytest.fixture
def team(db):
    techs = [
        TechnicianFactory(home_district=district("mokotow"), skills=["split_ac", "heat_pump"],
                          shift_start=time(8), shift_end=time(16), max_jobs_per_day=6),
        TechnicianFactory(home_district=district("wola"), skills=["gas_boiler", "split_ac"],
                          shift_start=time(8), shift_end=time(16), max_jobs_per_day=6),
    ]
    return techs


def test_a_day_is_planned_stored_and_the_jobs_get_technicians_and_etas(team, django_capture_on_commit_callbacks):
    day = timezone.localdate() + timedelta(days=1)
    jobs = [make_job(day, i, hour=8 + (i % 3) * 2) for i in range(8)]
    boiler = make_job(day, 9, equipment_kind="gas_boiler")
    chiller = make_job(day, 10, equipment_kind="chiller")

    def plan():
        with django_capture_on_commit_callbacks(execute=True):
            return day_plan(day=day, reason="test")

    received = events_to_group(g.dispatch_group(), plan)
    summary = day_plan(day=day, reason="again")  # planning twice replaces, never duplicates
    assert DayPlan.objects.get(day=day).version == 2
    assert {u["job"]: u["reason"] for u in summary["unassigned"]} == {chiller.pk: "skills"}
    assert UnassignedJob.objects.get().job_id == chiller.pk
    stops = list(RouteStop.objects.select_related("route", "job").order_by("route_id", "sequence"))
    assert len(stops) == 9
    for stop in stops:
        job = stop.job
        assert job.status == "scheduled" and job.technician_id == stop.route.technician_id
        assert job.eta == stop.eta
        assert job.requested_start <= stop.service_start <= job.requested_end
        assert at(day, 8) <= stop.eta and stop.service_end <= at(day, 16)
    assert ServiceJob.objects.get(pk=boiler.pk).technician_id == team[1].pk
    assert all(j.pk in {s.job_id for s in stops} for j in jobs)
    route_events = [e for e in received if e["type"] == "route.updated"]
    assert {e["data"]["technician"] for e in route_events} == {s.route.technician_id for s in stops}
    assert any(e["type"] == "job.updated" and e["data"]["change"] == "eta" for e in received)
    assert summary["total_travel_s"] > 0 and summary["matrix"] == "haversine"


def test_re_planning_keeps_started_jobs_fixed_with_their_technician(team):
    today = timezone.localdate()
    # Planned as of early morning, so the test means the same whatever time of day it runs.
    morning = timezone.make_aware(datetime.combine(today, time(1, 0)))
    for t in team:
        t.shift_start, t.shift_end = time(0, 0), time(23, 59)
        t.save()
    started = make_job(today, 0, hour=0, span=23)
    job_assign(job=started, technician=team[0])
    job_transition(job=started, to_status="en_route")
    job_transition(job=started, to_status="on_site")
    others = [make_job(today, i, hour=0, span=23) for i in range(1, 6)]
    result = day_replan(day=today, reason="booking.created", job_id=others[0].pk, now=morning)
    assert result["unassigned"] == 0 and result["job"] == others[0].pk
    started.refresh_from_db()
    assert started.status == "on_site" and started.technician_id == team[0].pk
    first = RouteStop.objects.get(job=started)
    assert first.fixed and first.sequence == 0 and first.route.technician_id == team[0].pk
    later = RouteStop.objects.filter(route=first.route, sequence__gt=0)
    assert all(s.eta >= first.service_end for s in later)
    # A second re-plan (e.g. a cancellation) still leaves it alone.
    job_transition(job=others[1], to_status="cancelled")
    day_replan(day=today, reason="job.cancelled", job_id=others[1].pk)
    assert RouteStop.objects.get(job=started).fixed
    assert not RouteStop.objects.filter(job=others[1]).exists()


def test_optimize_routes_prints_a_json_summary(team, capsys):
    day = timezone.localdate() + timedelta(days=2)
    job = make_job(day, 0)
    nowhere = ServiceJobFactory(site=SiteFactory(latitude=None, longitude=None, district=None), latitude=None,
                                longitude=None, requested_start=at(day, 9), requested_end=at(day, 12))
    call_command("optimize_routes", "--date", day.isoformat())
    summary = json.loads(capsys.readouterr().out)
    assert summary["day"] == day.isoformat()
    assert [s["job"] for r in summary["routes"] for s in r.get("stops", [])] == [job.pk]
    assert summary["unassigned"] == [{"job": nowhere.pk, "reason": "no_location"}]
    assert set(summary["routes"][0]) >= {"technician", "stops", "travel_s", "leaves", "returns"}


def test_job_locate_sets_the_location_once_per_dedupe_key(team, django_capture_on_commit_callbacks):
    job = make_job(timezone.localdate(), 0)
    with django_capture_on_commit_callbacks(execute=True):
        first = job_locate(job_id=job.pk, latitude=52.2318, longitude=21.0060, district_slug=None, dedupe_key="m1")
    assert first["district"] == "srodmiescie"
    again = job_locate(job_id=job.pk, latitude=52.0, longitude=21.0, district_slug=None, dedupe_key="m1")
    assert again["duplicate"] and again["district"] == "srodmiescie"
    job.refresh_from_db()
    assert (job.latitude, job.district.slug) == (52.2318, "srodmiescie")


def test_job_locate_without_a_job_puts_a_message_marker_on_the_dispatch_map():
    received = events_to_group(g.dispatch_group(), lambda: job_locate(
        job_id=None, latitude=52.2540, longitude=21.0350, district_slug=None, message_id=77, dedupe_key="msg-77"))
    assert len(received) == 1 and received[0]["data"]["marker"] is True
    assert received[0]["data"]["district"] == "praga-polnoc" and received[0]["id"] == 77


def test_a_dispatchers_assignment_on_the_board_survives_re_planning(team, dispatcher):
    from django.test import Client

    day = timezone.localdate() + timedelta(days=1)
    jobs = [make_job(day, i) for i in range(4)]
    day_plan(day=day, reason="first")
    chosen = jobs[0]
    chosen.refresh_from_db()
    other = next(t for t in team if t.pk != chosen.technician_id)
    c = Client()
    c.force_login(dispatcher)
    c.post("/mapping/board/assign/", {"job": chosen.pk, "technician": other.pk, "day": day.isoformat()})
    chosen.refresh_from_db()
    assert chosen.technician_id == other.pk and chosen.scheduled_start == chosen.requested_start
    day_plan(day=day, reason="again")
    chosen.refresh_from_db()
    assert chosen.technician_id == other.pk
    assert RouteStop.objects.get(job=chosen, route__plan__day=day).route.technician_id == other.pk


def test_a_booking_re_plans_from_the_stored_plan_and_is_stored_within_two_seconds(team):
    import time as clock

    day = timezone.localdate() + timedelta(days=1)
    for i in range(10):
        make_job(day, i, hour=8 + (i % 4) * 2)
    day_plan(day=day, reason="nightly")
    booked = make_job(day, 11, hour=10)
    t = clock.perf_counter()
    result = day_replan(day=day, reason="booking.created", job_id=booked.pk)
    elapsed = clock.perf_counter() - t
    assert elapsed < 2.0, elapsed
    assert result["routes"] >= 1 and not result.get("skipped")
    assert RouteStop.objects.filter(route__plan__day=day, job=booked).exists()
    # Every ETA is the arrival computed with the travel time of that hour.
    for stop in RouteStop.objects.filter(route__plan__day=day):
        assert stop.eta <= stop.service_start


def test_job_locate_rolled_back_with_its_outbox_row_is_applied_on_the_retry(team):
    # A later step of the same outbox row fails (the high-urgency notify): the row's transaction
    # rolls back the location, so the retry must apply it again, not answer "duplicate".
    job = make_job(timezone.localdate(), 0)
    with pytest.raises(RuntimeError), transaction.atomic():
        job_locate(job_id=job.pk, latitude=52.2318, longitude=21.0060, district_slug=None, dedupe_key="m-rb")
        raise RuntimeError("the notify failed")
    retry = job_locate(job_id=job.pk, latitude=52.2318, longitude=21.0060, district_slug=None, dedupe_key="m-rb")
    assert not retry.get("duplicate")
    job.refresh_from_db()
    assert (job.latitude, job.district.slug) == (52.2318, "srodmiescie")


def test_the_integration_checks_synthetic_jobs_are_never_planned_into_real_routes(team):
    day = timezone.localdate() + timedelta(days=1)
    real = make_job(day, 0)
    synthetic = make_job(day, 1)
    ServiceJob.objects.filter(pk=synthetic.pk).update(is_synthetic=True)
    day_plan(day=day, reason="test")
    assert set(RouteStop.objects.values_list("job_id", flat=True)) == {real.pk}
    assert ServiceJob.objects.get(pk=synthetic.pk).status == "new"
