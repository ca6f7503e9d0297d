"""Mapping's reads: GeoJSON layers for the maps, the day's plan, a technician's day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
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


def technician_name(first_name: str, last_name: str, username: str) -> str:
    """str(technician) from its user's columns, for reads that load no model instances: the full
    name, else the username, as Technician.__str__ (mapping/tests/test_board_html.py holds the two
    together)."""
    return f"{first_name} {last_name}".strip() or username


def day_plan_get(*, day: date) -> dict[str, Any]:
    """The stored plan of a day: routes with their stops (coordinates, ETAs) and unassigned jobs."""
    plan = DayPlan.objects.filter(day=day).first()
    if plan is None:
        return {"day": day.isoformat(), "version": 0, "routes": [], "unassigned": []}
    # The stops' columns as tuples, not five model instances a stop (stop, job, route, technician,
    # user): they were most of the board's selector CPU (issue 21).
    stops = (RouteStop.objects.filter(route__plan=plan).order_by("route__technician_id", "sequence")
             .values_list("route_id", "route__technician_id", "route__travel_s", "route__technician__user__first_name",
                          "route__technician__user__last_name", "route__technician__user__username", "job_id",
                          "sequence", "eta", "service_start", "service_end", "fixed", "job__latitude",
                          "job__longitude", "job__status"))
    by_route: dict[int, dict[str, Any]] = {}
    local = timezone.localtime
    for (route_id, tech_id, travel_s, first, last, username, job_id, sequence, eta, start, end, fixed, latitude,
         longitude, status) in stops:
        r = by_route.get(route_id)
        if r is None:
            r = by_route[route_id] = {"technician": tech_id, "name": technician_name(first, last, username),
                                      "stops": [], "travel_s": travel_s}
        r["stops"].append({
            "job": job_id, "sequence": sequence, "eta": local(eta).isoformat(), "start": local(start).isoformat(),
            "end": local(end).isoformat(), "latitude": latitude, "longitude": longitude, "status": status,
            "fixed": fixed,
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


@dataclass(frozen=True, slots=True)
class BoardTechnician:
    """What a board row shows of a technician; str() is the name, as str(Technician) gives it."""

    pk: int
    name: str
    home_district: str
    shift_start: time
    shift_end: time

    def __str__(self) -> str:
        return self.name


def _board_technicians() -> list[BoardTechnician]:
    """Active technicians, by id, as tuples: with 200+ of them, model instances (technician, user,
    district) were a quarter of the board's selector CPU (9 against 1.7 ms; issue 21)."""
    rows = (Technician.objects.filter(active=True).order_by("pk")
            .values_list("pk", "user__first_name", "user__last_name", "user__username", "home_district__name",
                         "shift_start", "shift_end"))
    return [BoardTechnician(pk, technician_name(first, last, username), district, start, end)
            for pk, first, last, username, district, start, end in rows]


def board_rows(*, day: date) -> dict[str, Any]:
    """The day board: a row per active technician with timed stops, and the tray of unplaced jobs."""
    plan = day_plan_get(day=day)
    by_tech = {r["technician"]: r for r in plan["routes"]}
    rows = [{"technician": t, "route": by_tech.get(t.pk, {"stops": []}), "shift": (t.shift_start, t.shift_end)}
            for t in _board_technicians()]
    start = timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time()))
    # What the tray shows (number, service type, district, urgency), not the jobs' other columns.
    tray = list(ServiceJob.objects.filter(status="new").filter(
        Q(requested_start__isnull=True) | Q(requested_start__lt=start + timedelta(days=1), requested_start__gte=start)
    ).select_related("district").only("service_type", "urgency", "district__name").order_by("-priority", "pk")[:200])
    reasons = {u["job"]: u["reason_label"] for u in plan["unassigned"]}
    for job in tray:  # looked up here once, not by a template loop over every reason per job
        job.unassigned_reason = reasons.get(job.pk, "")
    return {"rows": rows, "tray": tray, "reasons": reasons, "plan": plan}
