"""The 14-day plan: every open job with a window in the horizon is in a plan, with a time."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from hvaccrm.closed_days import day_is_closed
from hvaccrm.models.jobs import JobStatus
from hvaccrm.tests.factories import ServiceJobFactory, TechnicianFactory, district
from mapping import conf
from mapping.models import RouteStop
from mapping.services import horizon_plan

pytestmark = pytest.mark.django_db


def _open_day(days_ahead: int):
    day = timezone.localdate() + timedelta(days=days_ahead)
    while day.weekday() >= 5 or day_is_closed(day):
        day += timedelta(days=1)
    return day


def _job(day):
    a = timezone.make_aware(datetime.combine(day, time(8)))
    return ServiceJobFactory(requested_start=a, requested_end=a + timedelta(hours=8), estimated_duration_min=60)


def test_every_open_job_in_the_next_14_days_gets_a_technician_and_a_time_later_ones_wait():
    TechnicianFactory(home_district=district("mokotow"), skills=["split_ac"], shift_start=time(8), shift_end=time(16))
    near, far = _job(_open_day(3)), _job(_open_day(9))
    beyond = _job(timezone.localdate() + timedelta(days=conf.PLAN_HORIZON_DAYS + 3))
    result = horizon_plan(timeout_s=0.2)
    assert {p["day"] for p in result["planned"]} == {near.requested_start.date().isoformat(),
                                                    far.requested_start.date().isoformat()}
    for job in (near, far):
        job.refresh_from_db()
        stop = RouteStop.objects.get(job=job)
        assert job.status == JobStatus.SCHEDULED and job.technician_id and job.eta == stop.eta
        assert job.requested_start <= stop.service_start < job.requested_end
    assert not RouteStop.objects.filter(job=beyond).exists()
