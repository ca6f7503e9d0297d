"""The district weight raises the district's jobs in the plan when not everything fits."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from hvaccrm.models import District, ServiceJob
from hvaccrm.tests.factories import ServiceJobFactory, SiteFactory, TechnicianFactory, district
from mapping.services import day_plan

pytestmark = pytest.mark.django_db


def _at(day, hour):
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _job(day, *, lat: float, lng: float, slug: str) -> ServiceJob:
    site = SiteFactory(latitude=lat, longitude=lng, district=district(slug))
    return ServiceJobFactory(site=site, priority=50, requested_start=_at(day, 9), requested_end=_at(day, 14),
                             estimated_duration_min=45)


def _served(day, jobs) -> set[int]:
    day_plan(day=day, reason="test")
    return set(ServiceJob.objects.filter(pk__in=[j.pk for j in jobs], technician__isnull=False)
               .values_list("pk", flat=True))


def test_with_room_for_one_job_the_heavier_districts_job_is_served_first():
    day = timezone.localdate() + timedelta(days=1)
    District.objects.filter(slug__in=["mokotow", "bielany"]).update(weight=1.0)
    TechnicianFactory(home_district=district("mokotow"), skills=["split_ac", "heat_pump", "gas_boiler"],
                      shift_start=time(8), shift_end=time(16), max_jobs_per_day=1)
    near = _job(day, lat=52.1880, lng=21.0230, slug="mokotow")  # next to the technician's home
    far = _job(day, lat=52.2900, lng=20.9350, slug="bielany")
    # Equal weights: the shorter drive wins, so what follows is the weight's doing.
    assert _served(day, [near, far]) == {near.pk}

    District.objects.filter(slug="bielany").update(weight=1.5)
    ServiceJob.objects.filter(pk__in=[near.pk, far.pk]).update(technician=None, status="new", pinned_at=None)
    assert _served(day, [near, far]) == {far.pk}
