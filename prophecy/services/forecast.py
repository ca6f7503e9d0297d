"""The weekly demand forecast: job history -> forecasts -> Predictions, backtests, hotspot alerts."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Avg, Count
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from hvaccrm.models import District, ServiceJob, Technician
from hvaccrm.models.outbox import Target
from hvaccrm.services.outbox import record
from prophecy import conf
from prophecy.engine.forecast import (
    ForecastResult,
    SeriesForecast,
    confidence_score,
    demand_score,
    forecast_series,
)
from prophecy.models import BacktestResult, JobWeekCount, Prediction

logger = logging.getLogger(__name__)

DEFAULT_JOB_HOURS = 1.5
MIN_WEEKS = 12


def _monday(value: date) -> date:
    return value - timedelta(days=value.weekday())


def job_history_weekly(*, until: date) -> tuple[list[date], dict[tuple[str, str], np.ndarray], dict]:
    """Weekly job counts per district slug x service type (cancelled jobs left out; plus the
    older history kept as weekly counts, `JobWeekCount`), the weeks they cover (Mondays, up to the
    week before `until`), and the mean job-hours of each pair."""
    last_week = _monday(until) - timedelta(weeks=1)
    qs = (
        ServiceJob.objects.exclude(status="cancelled").filter(district__isnull=False)
        .annotate(when=Coalesce("scheduled_start", "requested_start", "created_at"))
        .annotate(week=TruncWeek("when"))
    )
    rows = list(qs.values("district__slug", "service_type", "week").annotate(n=Count("id")))
    rows += [
        {"district__slug": slug, "service_type": service, "week": week, "n": n}
        for slug, service, week, n in JobWeekCount.objects.filter(week_start__lte=last_week)
        .values_list("district__slug", "service_type", "week_start", "jobs")
    ]
    hours = {
        (r["district__slug"], r["service_type"]): (r["avg"] or 60) / 60.0
        for r in ServiceJob.objects.exclude(status="cancelled").filter(district__isnull=False)
        .values("district__slug", "service_type").annotate(avg=Avg("estimated_duration_min"))
    }
    weeks_seen = [r["week"].date() if isinstance(r["week"], datetime) else r["week"] for r in rows if r["week"]]
    weeks_seen = [w for w in weeks_seen if w <= last_week]
    if not weeks_seen:
        return [], {}, hours
    first = min(weeks_seen)
    n = (last_week - first).days // 7 + 1
    weeks = [first + timedelta(weeks=i) for i in range(n)]
    series: dict[tuple[str, str], np.ndarray] = defaultdict(lambda: np.zeros(n))
    for r in rows:
        week = r["week"].date() if isinstance(r["week"], datetime) else r["week"]
        if week is None or week > last_week:
            continue
        series[(r["district__slug"], r["service_type"])][(week - first).days // 7] += r["n"]
    return weeks, dict(series), hours


def district_capacity_hours() -> dict[str, float]:
    """Weekly capacity per district: shift hours of the active technicians based there.

    A district where no technician is based is served from elsewhere: it gets an even share of
    the city's capacity (total / number of districts) instead of zero, which would call any
    forecast job there a 100 % load.
    """
    out: dict[str, float] = defaultdict(float)
    for tech in Technician.objects.filter(active=True).select_related("home_district"):
        out[tech.home_district.slug] += tech.shift_hours * conf.WORKDAYS_PER_WEEK
    slugs = list(District.objects.values_list("slug", flat=True))
    share = sum(out.values()) / len(slugs) if slugs else 0.0
    return {slug: out.get(slug) or share for slug in slugs}


def forecast_run(*, today: date | None = None, folds: int = 3) -> dict:
    """Forecast the next weeks per district x service type, store Predictions and backtests, and
    raise one alert per new hotspot (never a second for the same district, type and week)."""
    today = today or timezone.localdate()
    weeks, series, hours = job_history_weekly(until=today)
    if len(weeks) < MIN_WEEKS:
        return {"status": "skipped", "reason": f"{len(weeks)} weeks of history (need {MIN_WEEKS})",
                "predictions": 0, "alerts": 0}
    result: ForecastResult = forecast_series(series, weeks=weeks, horizon=conf.FORECAST_HORIZON_WEEKS, folds=folds)
    capacity = district_capacity_hours()
    districts = {d.slug: d for d in District.objects.all()}
    now = timezone.now()
    with transaction.atomic():
        _backtests_store(result=result, districts=districts)
        written, alerts = _predictions_store(result=result, districts=districts, hours=hours,
                                             capacity=capacity, now=now)
        _hotspot_alerts_record(alerts=alerts, districts=districts)
        _refresh_announce(written=written, alerts=len(alerts), weeks=result_weeks(result))
    logger.info("forecast: %s predictions, %s alerts, %.1f s", written, len(alerts), result.seconds)
    return {
        "status": "ok", "predictions": written, "alerts": len(alerts), "weeks_of_history": len(weeks),
        "mase": result.mase, "seasonal_naive_mase": result.naive_mase, "seconds": round(result.seconds, 2),
    }


def _backtests_store(*, result: ForecastResult, districts: dict[str, District]) -> None:
    """The backtest of the whole run, then one per series that has one."""
    if result.mase is None:
        return
    BacktestResult.objects.create(
        district=None, service_type="", model_name=next(iter(result.forecasts.values())).model,
        folds=result.folds, horizon=conf.FORECAST_HORIZON_WEEKS, mase=result.mase,
        seasonal_naive_mase=result.naive_mase,
    )
    BacktestResult.objects.bulk_create([
        BacktestResult(district=districts[f.key[0]], service_type=f.key[1], model_name=f.model,
                       folds=result.folds, horizon=conf.FORECAST_HORIZON_WEEKS, mase=f.mase,
                       seasonal_naive_mase=f.naive_mase)
        for f in result.forecasts.values() if f.mase is not None and f.key[0] in districts
    ])


def _predictions_store(
    *, result: ForecastResult, districts: dict[str, District], hours: dict[tuple[str, str], float],
    capacity: dict[str, float], now: datetime,
) -> tuple[int, dict[tuple[str, date], list[Prediction]]]:
    """Create or update one Prediction per district, service type and week; return how many were
    written and the new hotspots by (district slug, week)."""
    alerts: dict[tuple[str, date], list[Prediction]] = defaultdict(list)
    written = 0
    existing = {
        (p.district_id, p.service_type, p.week_start): p
        for p in Prediction.objects.select_for_update().filter(week_start__in=result_weeks(result))
    }
    for (slug, service), fc in result.forecasts.items():
        district = districts.get(slug)
        if district is None:
            continue
        job_hours_each = hours.get((slug, service), DEFAULT_JOB_HOURS)
        cap = capacity.get(slug, 0.0)
        for week, mean, low, high in zip(fc.weeks, fc.mean, fc.low, fc.high, strict=True):
            values = _prediction_values(fc=fc, mean=mean, low=low, high=high,
                                        job_hours_each=job_hours_each, capacity=cap)
            pred = existing.get((district.pk, service, week))
            if pred is None:
                pred = Prediction.objects.create(district=district, service_type=service, week_start=week, **values)
            else:
                for key, value in values.items():
                    setattr(pred, key, value)
                pred.save(update_fields=[*values, "updated_at"])
            written += 1
            if _hotspot_mark(pred=pred, now=now):
                alerts[(slug, week)].append(pred)
    return written, alerts


def _prediction_values(*, fc: SeriesForecast, mean: float, low: float, high: float, job_hours_each: float,
                       capacity: float) -> dict[str, Any]:
    job_hours = mean * job_hours_each
    return {
        "forecast_jobs": round(mean, 2), "forecast_low": round(low, 2), "forecast_high": round(high, 2),
        "job_hours": round(job_hours, 2), "capacity_hours": round(capacity, 1),
        "predicted_demand": demand_score(job_hours=job_hours, capacity_hours=capacity),
        "confidence": confidence_score(mean=mean, low=low, high=high, mase=fc.mase), "mase": fc.mase,
        "seasonal_naive_mase": fc.naive_mase, "model_name": fc.model,
    }


def _hotspot_mark(*, pred: Prediction, now: datetime) -> bool:
    """Mark or unmark a prediction as a hotspot; True when it is a new one to alert about."""
    hot = pred.predicted_demand >= conf.HOTSPOT_DEMAND and pred.confidence >= conf.HOTSPOT_CONFIDENCE
    # The map shows the current forecast; the alert goes out once per district, type and week,
    # even if the forecast cools down and heats up again.
    new_alert = hot and pred.alerted_at is None
    if hot != pred.is_hotspot or new_alert:
        pred.is_hotspot = hot
        pred.alerted_at = now if new_alert else pred.alerted_at
        pred.save(update_fields=["is_hotspot", "alerted_at", "updated_at"])
    return new_alert


def _hotspot_alerts_record(*, alerts: dict[tuple[str, date], list[Prediction]],
                           districts: dict[str, District]) -> None:
    """One outbox row per district and week, about its most demanding new hotspot."""
    from prophecy.selectors import alert_links  # the selectors import this module's package
    for (slug, week), preds in alerts.items():
        preds.sort(key=lambda p: -p.predicted_demand)
        top = preds[0]
        links = alert_links(district=districts[slug], service_types=[p.service_type for p in preds])
        record(
            source="prophecy", target=Target.NOTIFICATIONS, kind="prophecy.alert", obj=top,
            payload={
                "prediction": top.pk, "predictions": [p.pk for p in preds],
                "district": districts[slug].name, "district_slug": slug,
                "predictedDemand": top.predicted_demand, "confidence": top.confidence,
                "serviceTypes": [p.service_type for p in preds], "week_start": week.isoformat(), **links,
            },
        )


def _refresh_announce(*, written: int, alerts: int, weeks: list[date]) -> None:
    """Tell the managers' dashboard and the dispatch map (after commit) that the forecast moved, so
    they re-draw without a reload."""
    from django.urls import reverse

    from hvaccrm.realtime import events, groups

    events.emit([groups.managers_group(), groups.dispatch_group()], "forecast.updated", row_id=written, data={
        "predictions": written, "alerts": alerts, "weeks": [w.isoformat() for w in weeks],
        "dashboard_url": reverse("prophecy:dashboard"), "refreshed_at": timezone.now().isoformat(),
    })


def result_weeks(result: ForecastResult) -> list[date]:
    return sorted({w for f in result.forecasts.values() for w in f.weeks})
