"""A year of trends: the five-minute health snapshots rolled up into one row per day and
integration (kept 13 months; the snapshots themselves 30 days), and the weekly view of them.

The rollup is idempotent: it recomputes whole days from the snapshots (update_or_create), starting
at the last day it wrote, so running it twice, or after a missed night, gives the same rows.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, timedelta
from statistics import fmean
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from audit import conf
from audit.health import INTEGRATIONS
from audit.models import HealthDaily, HealthSnapshot
from hvaccrm import metrics
from hvaccrm.models import District, ServiceJob
from hvaccrm.models.districts import WEIGHT_MAX

KEEP_DAYS = 396  # 13 months
METRICS_ROW = "_metrics"


def _counters_reading() -> dict[str, Any]:
    """Today's cumulative cache and search counters (weekly figures are differences)."""
    read = metrics.counters_read()
    caches: dict[str, dict[str, float]] = defaultdict(dict)
    for field, value in read.get("hvaccrm_cache_requests", {}).items():
        name, result = json.loads(field)
        caches[name][result] = value
    search = {"count": 0.0, "sum": 0.0}
    for field, value in read.get("hvaccrm_search_duration_seconds", {}).items():
        labels, suffix = field.rsplit("|", 1)
        if json.loads(labels)[1] == "cache":
            continue  # cached answers say nothing about the store's speed
        if suffix == "sum":
            search["sum"] += value
        else:
            search["count"] += value
    return {"cache": dict(caches), "search": search}


def _day_rows(day: date) -> list[dict[str, Any]]:
    per: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    count = 0
    for data in HealthSnapshot.objects.filter(created_at__date=day).values_list("data", flat=True).iterator():
        count += 1
        for row in data.get("integrations", []):
            for key in ("success_rate", "p50_ms", "p95_ms"):
                if row.get(key) is not None:
                    per[row["key"]][key].append(float(row[key]))
    rows = []
    for i in INTEGRATIONS:
        f = per.get(i.key, {})
        rows.append({"integration": i.key, "snapshots": count,
                     **{k: round(fmean(f[k]), 2) if f.get(k) else None for k in ("success_rate", "p50_ms", "p95_ms")}})
    return rows


def health_daily_rollup(*, today: date | None = None) -> int:
    """Roll the snapshots up into daily rows (from the last rolled day to today), read today's
    counters, and delete daily rows older than 13 months. Returns the number of rows written."""
    today = today or timezone.localdate()
    last = HealthDaily.objects.exclude(integration=METRICS_ROW).order_by("-day").values_list("day", flat=True).first()
    first = HealthSnapshot.objects.order_by("created_at").values_list("created_at", flat=True).first()
    start = last or (timezone.localtime(first).date() if first else today)
    written = 0
    with transaction.atomic():
        day = start
        while day <= today:
            for row in _day_rows(day):
                key = row.pop("integration")
                HealthDaily.objects.update_or_create(day=day, integration=key, defaults=row)
                written += 1
            day += timedelta(days=1)
        try:
            reading = _counters_reading()
        except Exception:  # Redis down: the day keeps its last reading
            reading = None
        if reading is not None:
            HealthDaily.objects.update_or_create(day=today, integration=METRICS_ROW, defaults={"figures": reading})
        HealthDaily.objects.filter(day__lt=today - timedelta(days=KEEP_DAYS)).delete()
    return written


def _delta(new: float, old: float) -> float:
    return new - old if new >= old else new  # a counter reset (Redis flushed) starts again at zero


def trends_weekly() -> list[dict[str, Any]]:
    """Newest week first: per integration the mean success rate and p95; per cache the hit rate;
    the mean semantic search time (store answers, not cached ones)."""
    weeks: dict[date, dict[str, Any]] = {}
    readings: dict[date, dict[str, Any]] = {}
    for row in HealthDaily.objects.order_by("day"):
        monday = row.day - timedelta(days=row.day.weekday())
        if row.integration == METRICS_ROW:
            readings[monday] = row.figures  # the week's last reading wins
            continue
        week = weeks.setdefault(monday, {"week": monday, "integrations": defaultdict(lambda: defaultdict(list))})
        for key in ("success_rate", "p95_ms"):
            value = getattr(row, key)
            if value is not None:
                week["integrations"][row.integration][key].append(value)
    out, previous = [], {"cache": {}, "search": {"count": 0.0, "sum": 0.0}}
    for monday in sorted(set(weeks) | set(readings)):
        week = weeks.get(monday, {"integrations": {}})
        integrations = {
            i.key: {k: round(fmean(v), 1) if (v := week["integrations"].get(i.key, {}).get(k)) else None
                    for k in ("success_rate", "p95_ms")}
            for i in INTEGRATIONS
        }
        reading = readings.get(monday)
        caches, search_ms = {}, None
        if reading:
            for name, now in reading.get("cache", {}).items():
                before = previous["cache"].get(name, {})
                hits = _delta(now.get("hit", 0), before.get("hit", 0))
                misses = _delta(now.get("miss", 0), before.get("miss", 0))
                caches[name] = round(100 * hits / (hits + misses), 1) if hits + misses else None
            s, p = reading.get("search", {}), previous["search"]
            n = _delta(s.get("count", 0), p.get("count", 0))
            search_ms = round(1000 * _delta(s.get("sum", 0), p.get("sum", 0)) / n, 1) if n else None
            previous = reading
        out.append({"week": monday, "integrations": integrations, "cache": caches, "search_ms": search_ms})
    return out[::-1]


def district_demand(*, weeks: int | None = None, now=None) -> list[dict[str, Any]]:
    """Per district (by name): jobs per week over the last `weeks`, its share of all jobs and its
    share of the weights, and a hint where the two differ by more than DEMAND_HINT_POINTS, with the
    weight that would match the demand (the guide's "optimise district weights"). Two queries."""
    weeks = weeks or conf.DEMAND_WEEKS
    since = (now or timezone.now()) - timedelta(weeks=weeks)
    counts = dict(ServiceJob.objects.filter(created_at__gte=since, district__isnull=False).order_by()
                  .values("district_id").annotate(n=Count("id")).values_list("district_id", "n"))
    districts = list(District.objects.only("name", "slug", "weight").order_by("name"))
    jobs, weights = sum(counts.values()), sum(d.weight for d in districts)
    out = []
    for d in districts:
        n = counts.get(d.pk, 0)
        demand = 100 * n / jobs if jobs else None
        share = 100 * d.weight / weights if weights else None
        hint, suggested = "", None
        if demand is not None and share is not None and abs(demand - share) > conf.DEMAND_HINT_POINTS:
            hint = "raise" if demand > share else "lower"
            suggested = round(min(WEIGHT_MAX, demand / 100 * weights), 2)
        out.append({"slug": d.slug, "name": d.name, "weight": d.weight, "per_week": round(n / weeks, 1),
                    "demand_share": None if demand is None else round(demand, 1),
                    "weight_share": None if share is None else round(share, 1), "hint": hint, "suggested": suggested})
    return out
