"""A year of trends: daily rows rolled up from the snapshots (idempotent, kept 13 months) and the
weekly page for staff."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit import trends
from audit.models import HealthDaily, HealthSnapshot
from hvaccrm import metrics

pytestmark = pytest.mark.django_db


def _snapshot(day: date, *, rate: float, p95: float) -> None:
    snap = HealthSnapshot.objects.create(overall="green", data={"integrations": [
        {"key": "map", "success_rate": rate, "p50_ms": 40.0, "p95_ms": p95},
        {"key": "vector", "success_rate": None, "p50_ms": None, "p95_ms": None},
    ]})
    at = timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time())) + timedelta(hours=12)
    HealthSnapshot.objects.filter(pk=snap.pk).update(created_at=at)


def test_the_rollup_makes_one_row_per_day_and_integration_and_running_it_again_changes_nothing():
    today = timezone.localdate()
    for rate, p95 in ((100.0, 200.0), (96.0, 400.0)):
        _snapshot(today - timedelta(days=1), rate=rate, p95=p95)
    _snapshot(today, rate=90.0, p95=100.0)
    metrics.cache_lookup(cache="embeddings", hits=3, misses=1)
    trends.health_daily_rollup(today=today)
    first = list(HealthDaily.objects.values_list("day", "integration", "success_rate", "p95_ms", "snapshots"))
    trends.health_daily_rollup(today=today)
    assert list(HealthDaily.objects.values_list("day", "integration", "success_rate", "p95_ms", "snapshots")) == first
    yesterday = HealthDaily.objects.get(day=today - timedelta(days=1), integration="map")
    assert (yesterday.success_rate, yesterday.p95_ms, yesterday.snapshots) == (98.0, 300.0, 2)
    assert HealthDaily.objects.get(day=today, integration="vector").success_rate is None
    reading = HealthDaily.objects.get(day=today, integration=trends.METRICS_ROW).figures
    assert reading["cache"]["embeddings"] == {"hit": 3.0, "miss": 1.0}


def test_daily_rows_older_than_13_months_are_deleted_and_younger_ones_kept():
    today = timezone.localdate()
    HealthDaily.objects.create(day=today - timedelta(days=400), integration="map", success_rate=99.0)
    HealthDaily.objects.create(day=today - timedelta(days=380), integration="map", success_rate=99.0)
    trends.health_daily_rollup(today=today)
    assert not HealthDaily.objects.filter(day=today - timedelta(days=400)).exists()
    assert HealthDaily.objects.filter(day=today - timedelta(days=380)).exists()


def test_weekly_trends_average_the_days_and_take_cache_hit_rates_from_counter_differences():
    monday = date(2026, 3, 2)
    HealthDaily.objects.create(day=monday, integration="map", success_rate=99.0, p95_ms=100.0)
    HealthDaily.objects.create(day=monday + timedelta(days=1), integration="map", success_rate=97.0, p95_ms=300.0)
    HealthDaily.objects.create(day=monday + timedelta(days=6), integration=trends.METRICS_ROW, figures={
        "cache": {"search": {"hit": 30, "miss": 10}}, "search": {"count": 10, "sum": 0.5}})
    HealthDaily.objects.create(day=monday + timedelta(days=13), integration=trends.METRICS_ROW, figures={
        "cache": {"search": {"hit": 40, "miss": 30}}, "search": {"count": 20, "sum": 2.5}})
    newest, oldest = trends.trends_weekly()
    assert oldest["integrations"]["map"] == {"success_rate": 98.0, "p95_ms": 200.0}
    assert oldest["cache"] == {"search": 75.0} and oldest["search_ms"] == 50.0
    assert newest["cache"] == {"search": 33.3} and newest["search_ms"] == 200.0


def test_the_trends_page_is_for_managers_in_the_admin_look_and_paginated(client, manager, technician_mokotow):
    for n in range(30):
        HealthDaily.objects.create(day=date(2026, 1, 5) + timedelta(weeks=n), integration="map", success_rate=99.0)
    url = reverse("audit:trends")
    client.force_login(technician_mokotow.user)
    assert client.get(url).status_code == 403
    client.force_login(manager)
    response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 200 and 'id="trends"' in body and "page 1 of 2" in body
    assert "<script>" not in body.replace("<script src", "")
    assert client.get(url + "?page=2").status_code == 200
