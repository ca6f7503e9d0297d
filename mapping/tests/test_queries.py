"""Query counts of the list pages and layers stay flat as rows grow (no N+1)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hvaccrm.tests.factories import ServiceJobFactory, TechnicianFactory
from mapping.services import day_plan

pytestmark = pytest.mark.django_db


def _grow(day, n: int) -> None:
    for _ in range(n):
        TechnicianFactory(shift_start=time(8), shift_end=time(18))
    for i in range(3 * n):
        start = timezone.make_aware(datetime.combine(day, time(8 + i % 6)))
        ServiceJobFactory(requested_start=start, requested_end=start + timedelta(hours=3), estimated_duration_min=30)
    day_plan(day=day, reason="test")


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


URLS = [
    "/mapping/board/?day={day}", "/mapping/dispatch/?day={day}", "/api/mapping/districts.geojson",
    "/api/mapping/technicians.geojson", "/api/mapping/jobs.geojson?day={day}", "/api/mapping/plan/?day={day}",
    "/admin/mapping/dayplan/", "/admin/mapping/route/", "/admin/mapping/slotproposal/", "/admin/mapping/locationping/",
    "/admin/hvaccrm/district/", "/admin/hvaccrm/site/",
]


def test_the_number_of_queries_does_not_grow_with_the_rows(administrator):
    day = timezone.localdate() + timedelta(days=1)
    urls = [u.format(day=day.isoformat()) for u in URLS]
    c = Client()
    c.force_login(administrator)
    _grow(day, 2)
    small = {u: _count(c, u) for u in urls}
    _grow(day, 4)
    grown = {u: _count(c, u) for u in urls}
    assert {u: n for u, n in grown.items() if n > small[u]} == {}
