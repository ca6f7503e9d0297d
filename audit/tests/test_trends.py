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
    assert response.status_code == 200 and 'id="trends"' in body
    assert "page 1 of 2" in body or "strona 1 z 2" in body  # the manager may get the Polish page
    assert "<script>" not in body.replace("<script src", "")
    assert client.get(url + "?page=2").status_code == 200



def test_demand_against_weight_gives_jobs_per_week_both_shares_and_a_hint_past_the_threshold(monkeypatch):
    from audit import conf
    from hvaccrm.models import District
    from hvaccrm.tests.factories import ServiceJobFactory, SiteFactory, district

    District.objects.update(weight=1.0)  # 18 districts: each 5.6 % of the weights
    busy = SiteFactory(latitude=52.2360, longitude=20.9650, district=district("wola"))
    quiet = SiteFactory(latitude=52.1950, longitude=20.8850, district=district("ursus"))
    ServiceJobFactory.create_batch(12, site=busy)
    ServiceJobFactory(site=quiet)
    monkeypatch.setattr(conf, "DEMAND_HINT_POINTS", 2.5)
    rows = {r["slug"]: r for r in trends.district_demand(weeks=12)}
    wola, ursus, bemowo = rows["wola"], rows["ursus"], rows["bemowo"]
    assert (wola["per_week"], wola["demand_share"], wola["weight_share"]) == (1.0, 92.3, 5.6)
    assert wola["hint"] == "raise" and wola["suggested"] == 3.0  # 16.6 capped at the largest weight
    assert bemowo["hint"] == "lower" and bemowo["suggested"] == 0.0
    assert (ursus["demand_share"], ursus["hint"]) == (7.7, "")  # 2.1 points off: within 2.5
    monkeypatch.setattr(conf, "DEMAND_HINT_POINTS", 2.0)
    assert {r["slug"]: r for r in trends.district_demand(weeks=12)}["ursus"]["hint"] == "raise"


def test_the_trends_page_shows_demand_against_weight_per_district_in_a_fixed_number_of_queries(
        client, manager, django_assert_max_num_queries):
    from hvaccrm.tests.factories import ServiceJobFactory

    ServiceJobFactory.create_batch(3)
    client.force_login(manager)
    with django_assert_max_num_queries(12):
        body = client.get(reverse("audit:trends")).content.decode()
    assert 'id="district-demand"' in body and body.count("data-district=") == 18


def test_daily_rows_are_read_only_in_the_admin_and_the_list_does_not_grow_queries_with_rows(client, administrator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("admin:audit_healthdaily_changelist")
    client.force_login(administrator)

    def queries(days: int) -> int:
        HealthDaily.objects.all().delete()
        HealthDaily.objects.bulk_create(HealthDaily(day=date(2026, 1, 1) + timedelta(days=i), integration="map",
                                                    success_rate=99.0) for i in range(days))
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, {"integration": "map"}).status_code == 200
        return len(ctx.captured_queries)

    assert queries(3) == queries(60)
    row = HealthDaily.objects.first()
    assert client.post(reverse("admin:audit_healthdaily_change", args=[row.pk]), {"success_rate": 1}).status_code == 403
    assert client.get(reverse("admin:audit_healthdaily_add")).status_code == 403
