"""Mapping's reads: GeoJSON layers for the maps, the day's plan, a technician's day."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Q
from django.utils import timezone

from hvaccrm import metrics
from hvaccrm.models import District, ServiceJob, Technician
from hvaccrm.models.jobs import OPEN_STATUSES
from hvaccrm.selectors import job_list_open
from mapping.models import DayPlan, RouteStop


def _district_open_counts() -> dict[str, int]:
    """Open jobs per district, each cached for its district's tier TTL (5/10/15 minutes; the tier
    follows the weight)."""
    out: dict[str, int] = {}
    districts = list(District.objects.only("slug", "weight"))
    keys = {d.slug: f"mapping:open-jobs:{d.slug}" for d in districts}
    cached = cache.get_many(list(keys.values()))
    missing = [d for d in districts if keys[d.slug] not in cached]
    metrics.district_cache_lookup(districts=districts, missing=missing)
    if missing:
        counts = dict(
            District.objects.filter(slug__in=[d.slug for d in missing])
            .annotate(n=Count("jobs", filter=Q(jobs__status__in=OPEN_STATUSES)))
            .values_list("slug", "n")
        )
        for d in missing:
            cache.set(keys[d.slug], counts.get(d.slug, 0), timeout=d.cache_ttl)
            out[d.slug] = counts.get(d.slug, 0)
    for d in districts:
        out.setdefault(d.slug, cached.get(keys[d.slug], 0))
    return out


def districts_geojson() -> dict[str, Any]:
    counts = _district_open_counts()
    features = []
    for d in District.objects.prefetch_related("neighbours").order_by("name"):
        features.append({
            "type": "Feature", "id": d.slug, "geometry": d.geometry or None,
            "properties": {
                "slug": d.slug, "name": d.name, "tier": d.affluence_tier, "weight": d.weight,
                "cache_ttl": d.cache_ttl, "source": d.geometry_source, "open_jobs": counts.get(d.slug, 0),
                "neighbours": sorted(n.slug for n in d.neighbours.all()),
            },
        })
    return {"type": "FeatureCollection", "features": features}


def technicians_geojson() -> dict[str, Any]:
    """Technicians on shift: the last position, or no point and private=True in private mode."""
    features = []
    # Not the districts' boundaries (kilobytes of GeoJSON each): the board shows their names.
    techs = (Technician.objects.filter(active=True).select_related("user", "home_district")
             .defer("home_district__geometry").order_by("pk"))
    for t in techs:
        private = t.private_mode
        has_point = not private and t.last_latitude is not None and t.on_shift
        features.append({
            "type": "Feature", "id": t.pk,
            "geometry": {"type": "Point", "coordinates": [t.last_longitude, t.last_latitude]} if has_point else None,
            "properties": {
                "technician": t.pk, "name": str(t), "district": t.home_district.slug, "on_shift": t.on_shift,
                "private": private,
                "at": t.last_position_at.isoformat() if has_point and t.last_position_at else None,
            },
        })
    return {"type": "FeatureCollection", "features": features}


def jobs_geojson(*, day: date | None = None) -> dict[str, Any]:
    qs = job_list_open().filter(latitude__isnull=False)
    if day is not None:
        start = timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time()))
        qs = qs.filter(Q(scheduled_start__gte=start, scheduled_start__lt=start + timedelta(days=1))
                       | Q(scheduled_start__isnull=True))
    features = [{
        "type": "Feature", "id": j.pk,
        "geometry": {"type": "Point", "coordinates": [j.longitude, j.latitude]},
        "properties": {"job": j.pk, "status": j.status, "urgency": j.urgency, "service_type": j.service_type,
                       "technician": j.technician_id, "district": j.district.slug if j.district_id else None,
                       "eta": j.eta.isoformat() if j.eta else None},
    } for j in qs.order_by("pk")[:2000]]
    return {"type": "FeatureCollection", "features": features}


def day_plan_get(*, day: date) -> dict[str, Any]:
    """The stored plan of a day: routes with their stops (coordinates, ETAs) and unassigned jobs."""
    plan = DayPlan.objects.filter(day=day).first()
    if plan is None:
        return {"day": day.isoformat(), "version": 0, "routes": [], "unassigned": []}
    routes = []
    stops = (RouteStop.objects.filter(route__plan=plan).select_related("job", "route__technician__user")
             .order_by("route__technician_id", "sequence"))
    by_route: dict[int, dict[str, Any]] = {}
    for s in stops:
        r = by_route.setdefault(s.route_id, {
            "technician": s.route.technician_id, "name": str(s.route.technician), "stops": [],
            "travel_s": s.route.travel_s,
        })
        r["stops"].append({
            "job": s.job_id, "sequence": s.sequence, "eta": timezone.localtime(s.eta).isoformat(),
            "start": timezone.localtime(s.service_start).isoformat(), "end": timezone.localtime(s.service_end).isoformat(),
            "latitude": s.job.latitude, "longitude": s.job.longitude, "status": s.job.status, "fixed": s.fixed,
        })
    routes = list(by_route.values())
    unassigned = [{"job": u.job_id, "reason": u.reason, "reason_label": u.get_reason_display()}
                  for u in plan.unassigned.all()]
    return {"day": day.isoformat(), "version": plan.version, "total_travel_s": plan.total_travel_s,
            "routes": routes, "unassigned": unassigned}


def technician_day(*, technician: Technician, day: date) -> list[ServiceJob]:
    """The technician's jobs of the day in route order (plan order first, then by time)."""
    start = timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time()))
    end = start + timedelta(days=1)
    order = dict(RouteStop.objects.filter(route__technician=technician, route__plan__day=day)
                 .values_list("job_id", "sequence"))
    jobs = list(
        ServiceJob.objects.filter(technician=technician, status__in=OPEN_STATUSES)
        .filter(Q(pk__in=list(order)) | Q(scheduled_start__gte=start, scheduled_start__lt=end)
                | Q(eta__gte=start, eta__lt=end) | Q(status__in=["en_route", "on_site"]))
        .select_related("site", "equipment", "client", "district")
    )
    far = timezone.now() + timedelta(days=3650)
    jobs.sort(key=lambda j: (order.get(j.pk, 10_000), j.eta or j.scheduled_start or far, j.pk))
    return jobs


def board_rows(*, day: date) -> dict[str, Any]:
    """The day board: a row per active technician with timed stops, and the tray of unplaced jobs."""
    plan = day_plan_get(day=day)
    by_tech = {r["technician"]: r for r in plan["routes"]}
    rows = []
    # Not the districts' boundaries (kilobytes of GeoJSON each): the board shows their names.
    techs = (Technician.objects.filter(active=True).select_related("user", "home_district")
             .defer("home_district__geometry").order_by("pk"))
    for t in techs:
        rows.append({"technician": t, "route": by_tech.get(t.pk, {"stops": []}),
                     "shift": (t.shift_start, t.shift_end)})
    start = timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time()))
    tray = list(ServiceJob.objects.filter(status="new").filter(
        Q(requested_start__isnull=True) | Q(requested_start__lt=start + timedelta(days=1), requested_start__gte=start)
    ).select_related("district", "site").defer("district__geometry").order_by("-priority", "pk")[:200])
    reasons = {u["job"]: u["reason_label"] for u in plan["unassigned"]}
    for job in tray:  # looked up here once, not by a template loop over every reason per job
        job.unassigned_reason = reasons.get(job.pk, "")
    return {"rows": rows, "tray": tray, "reasons": reasons, "plan": plan}
