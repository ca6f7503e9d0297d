"""Route optimisation for a day: gather technicians and jobs, build the travel-time matrix, call the
solver core, store routes/stops/unassigned jobs, assign jobs and keep their ETA current, push."""

from __future__ import annotations

import time as clock
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hvaccrm.closed_days import day_is_closed
from hvaccrm.geo import DISTRICTS
from hvaccrm.models import ServiceJob, Technician
from hvaccrm.models.clients import F_GASES
from hvaccrm.models.districts import weighted_priority
from hvaccrm.models.jobs import JobStatus
from hvaccrm.realtime import events
from hvaccrm.realtime import groups as g
from hvaccrm.selectors import SMALL_CIRCUIT_KG, technician_skills
from hvaccrm.services import job_assign, job_eta_set, job_location_set
from mapping import conf, solver, travel
from mapping.models import DayPlan, Route, RouteStop, UnassignedJob

PLANNABLE = (JobStatus.NEW, JobStatus.SCHEDULED)
STARTED = (JobStatus.EN_ROUTE, JobStatus.ON_SITE)
EQUIPMENT_SKILL = {"split_ac": "split_ac", "multi_split": "multi_split", "heat_pump": "heat_pump",
                   "gas_boiler": "gas_boiler", "ventilation": "ventilation", "chiller": "chiller"}


def day_start(day: date) -> datetime:
    """Local midnight of `day` (aware); plan times are seconds from it."""
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def job_required_skills(job: ServiceJob) -> frozenset[str]:
    """The unit's kind, and the F-gas certificate for work on a unit holding a fluorinated gas."""
    eq = job.equipment
    if eq is None:
        return frozenset()
    skills = {EQUIPMENT_SKILL[eq.kind]} if eq.kind in EQUIPMENT_SKILL else set()
    if eq.refrigerant in F_GASES:
        # The certificate (hvaccrm.selectors.technician_skills) decides who has these on the day.
        skills.add("fgas_certified")
        if eq.refrigerant_charge_kg >= SMALL_CIRCUIT_KG and job.service_type != "inspection":
            skills.add("fgas_large")
    return frozenset(skills)


def pin_skill(technician_id: int) -> str:
    """A skill only this technician has: requiring it pins a job to them."""
    return f"pin:{technician_id}"


def technician_start_point(tech: Technician) -> tuple[float, float]:
    if tech.start_latitude is not None and tech.start_longitude is not None:
        return tech.start_latitude, tech.start_longitude
    _name, lat, lng, _tier, _w = DISTRICTS[tech.home_district.slug]
    return lat, lng


def jobs_of_day(*, day: date) -> list[ServiceJob]:
    """Open jobs wanted on `day` (scheduled, requested or, today, new without a date), with their
    started ones; only jobs with a location can be routed."""
    start, end = day_start(day), day_start(day + timedelta(days=1))
    on_day = (Q(scheduled_start__gte=start, scheduled_start__lt=end)
              | Q(scheduled_start__isnull=True, requested_start__gte=start, requested_start__lt=end)
              | Q(scheduled_start__isnull=True, requested_start__lt=start, requested_end__gt=start))
    if day == timezone.localdate():
        on_day |= Q(scheduled_start__isnull=True, requested_start__isnull=True, status=JobStatus.NEW)
        on_day |= Q(status__in=STARTED)
    # The integration check's synthetic jobs never enter a real technician's route (or a push).
    return list(
        ServiceJob.objects.filter(on_day, status__in=PLANNABLE + STARTED, is_synthetic=False)
        .select_related("equipment", "district", "technician")
        .order_by("pk")
    )


@dataclass
class _Problem:
    vehicles: list[solver.Vehicle]
    jobs: list[solver.Job]
    matrix: solver.TimeBands  # travel times by hour band
    source: str
    fixed: dict[int, ServiceJob]  # technician id -> started job kept in place
    job_rows: dict[int, ServiceJob]
    unroutable: dict[int, str]
    initial: dict[int, list[int]] | None = None  # the stored plan: technician id -> job ids in order


class _Points:
    """The problem's locations in order (technicians' starts first, then the jobs), with districts."""

    def __init__(self) -> None:
        self.points: list[tuple[float, float]] = []
        self.districts: list[str | None] = []

    def add(self, lat: float, lng: float, slug: str | None) -> int:
        self.points.append((lat, lng))
        self.districts.append(slug)
        return len(self.points) - 1


def _problem(*, day: date, technicians: list[Technician], jobs: list[ServiceJob], now: datetime) -> _Problem:
    base = day_start(day)
    pts = _Points()
    fixed = {job.technician_id: job for job in jobs if job.status in STARTED and job.technician_id}
    vehicles = [v for tech in technicians
                if (v := _vehicle(tech=tech, day=day, started=fixed.get(tech.pk), pts=pts, base=base, now=now))]
    sjobs, rows, unroutable = [], {}, {}
    for job in jobs:
        if job.status in STARTED:
            continue
        if job.latitude is None or job.longitude is None:
            unroutable[job.pk] = UnassignedJob.Reason.NO_LOCATION
            continue
        loc = pts.add(job.latitude, job.longitude, job.district.slug if job.district_id else None)
        rows[job.pk] = job
        sjobs.append(_solver_job(job=job, location=loc, base=base))
    matrix, source = travel.bands_for(pts.points, pts.districts, routing_url=conf.ROUTING_URL,
                                      detour=conf.ROUTE_DETOUR_FACTOR, timeout=conf.ROUTING_TIMEOUT_S)
    return _Problem(vehicles, sjobs, matrix, source, fixed, rows, unroutable, initial=_stored_plan(day=day))


def _vehicle(*, tech: Technician, day: date, started: ServiceJob | None, pts: _Points, base: datetime,
             now: datetime) -> solver.Vehicle | None:
    """A technician as the solver's vehicle, or None when the shift is already over."""
    now_s = int((now - base).total_seconds())
    shift_a = tech.shift_start.hour * 3600 + tech.shift_start.minute * 60
    shift_b = tech.shift_end.hour * 3600 + tech.shift_end.minute * 60
    if shift_b <= max(shift_a, now_s):
        return None  # the shift is over: nothing more to plan for this technician today
    home = pts.add(*technician_start_point(tech), tech.home_district.slug)
    start, ready = home, max(shift_a, now_s)
    if started is not None and started.latitude is not None:
        # The started job stays where it is: the technician continues from it when it ends.
        start = pts.add(started.latitude, started.longitude, started.district.slug if started.district_id else None)
        began = started.eta or started.status_changed_at or now
        ready = max(ready, int((began - base).total_seconds()) + started.estimated_duration_min * 60)
    elif tech.last_latitude is not None and tech.on_shift and day == timezone.localdate():
        start = pts.add(tech.last_latitude, tech.last_longitude, None)
    return solver.Vehicle(
        id=tech.pk, start=start, end=home, shift=(ready, max(ready, shift_b)),
        skills=technician_skills(technician=tech, on=day) | {pin_skill(tech.pk)},
        max_jobs=max(0, tech.max_jobs_per_day - (1 if started else 0)),
    )


def _solver_job(*, job: ServiceJob, location: int, base: datetime) -> solver.Job:
    """A job as the solver's job: its window, skills (a pin is a skill only its technician has)
    and priority weighted by its district."""
    window_from = job.scheduled_start or job.requested_start
    window_to = job.scheduled_end or job.requested_end
    windows: tuple[tuple[int, int], ...] = ()
    if window_from and window_to:
        a = max(0, int((window_from - base).total_seconds()))
        b = int((window_to - base).total_seconds())
        windows = ((a, max(a, b)),)
        if job.slot_held and job.status == JobStatus.SCHEDULED:
            windows = ((a, a),)  # a slot a dispatcher placed starts when it was placed
    skills = job_required_skills(job)
    if job.status == JobStatus.SCHEDULED and job.technician_id and job.pinned_at is not None:
        # A dispatcher's pin (or an accepted slot): the job stays with its technician, in its
        # window; a job the optimiser placed (not pinned) may move at this plan.
        skills |= {pin_skill(job.technician_id)}
    weight = job.district.weight if job.district_id else 1.0  # the office's lever per district
    return solver.Job(id=job.pk, location=location, service=job.estimated_duration_min * 60, windows=windows,
                      skills=skills, priority=weighted_priority(priority=job.priority, weight=weight))


def _stored_plan(*, day: date) -> dict[int, list[int]]:
    """The day's current plan, where a re-plan starts its search (technician id -> job ids)."""
    stops = (RouteStop.objects.filter(route__plan__day=day, fixed=False)
             .order_by("route__technician_id", "sequence").values_list("route__technician_id", "job_id"))
    plan: dict[int, list[int]] = {}
    for tech_id, job_id in stops:
        plan.setdefault(tech_id, []).append(job_id)
    return plan


def day_plan(*, day: date, reason: str = "manual", now: datetime | None = None, apply: bool = True,
             timeout_s: float | None = None) -> dict[str, Any]:
    """Optimise `day`: started jobs stay fixed, the rest are (re)assigned in the best order. Stores
    the plan, assigns jobs, updates ETAs and pushes route.updated. Returns the JSON summary.
    The search starts from the stored plan and improves it for `timeout_s` (ROUTE_TIMEOUT_S)."""
    now = now or timezone.now()
    base = day_start(day)
    if now < base:
        now = base
    technicians = list(Technician.objects.filter(active=True).select_related("user", "home_district").order_by("pk"))
    jobs = jobs_of_day(day=day)
    problem = _problem(day=day, technicians=technicians, jobs=jobs, now=now)
    t0 = clock.perf_counter()
    solution = solver.solve(problem.vehicles, problem.jobs, problem.matrix,
                            timeout_s=timeout_s or conf.ROUTE_TIMEOUT_S, initial=problem.initial)
    solve_ms = (clock.perf_counter() - t0) * 1000
    unassigned = {**problem.unroutable, **solution.unassigned}
    if not apply:
        return _summary(day, solution, unassigned, problem, solve_ms, reason, base)
    tech_by_id = {t.pk: t for t in technicians}
    with transaction.atomic():
        plan = _plan_reset(day=day, reason=reason, travel_s=solution.travel, solve_ms=solve_ms)
        touched: set[int] = set()
        routed_techs = {r.vehicle for r in solution.routes} | set(problem.fixed)
        for tech_id in sorted(routed_techs):
            _route_store(plan=plan, technician=tech_by_id[tech_id], problem=problem, base=base, now=now,
                         planned=next((r for r in solution.routes if r.vehicle == tech_id), None))
            touched.add(tech_id)
        for job_id, why in sorted(unassigned.items()):
            UnassignedJob.objects.create(plan=plan, job_id=job_id, reason=why)
        _route_updates_emit(plan=plan, day=day, touched=touched, unassigned=unassigned)
    return _summary(day, solution, unassigned, problem, solve_ms, reason, base)


def _plan_reset(*, day: date, reason: str, travel_s: int, solve_ms: float) -> DayPlan:
    """The day's plan, emptied of its routes and unassigned jobs, as a new version."""
    plan, _created = DayPlan.objects.select_for_update().get_or_create(day=day)
    plan.routes.all().delete()
    plan.unassigned.all().delete()
    plan.reason = reason[:100]
    plan.total_travel_s = travel_s
    plan.solve_ms = solve_ms
    plan.version += 1
    plan.save()
    return plan


def _route_store(*, plan: DayPlan, technician: Technician, planned: solver.RoutePlan | None,
                 problem: _Problem, base: datetime, now: datetime) -> None:
    """A technician's route: the job already started first (fixed), then the solver's stops; the
    jobs are assigned to the technician and get their new ETA."""
    started = problem.fixed.get(technician.pk)
    route = Route.objects.create(
        plan=plan, technician=technician,
        start_at=base + timedelta(seconds=planned.start) if planned else None,
        end_at=base + timedelta(seconds=planned.end) if planned else None,
        travel_s=planned.travel if planned else 0,
    )
    seq = 0
    if started is not None:
        began = started.eta or started.status_changed_at or now
        RouteStop.objects.create(route=route, job=started, sequence=seq, eta=began, service_start=began,
                                 service_end=began + timedelta(minutes=started.estimated_duration_min),
                                 fixed=True)
        seq += 1
    for stop in planned.stops if planned else []:
        job = problem.job_rows[stop.job]
        eta = base + timedelta(seconds=stop.arrival)
        RouteStop.objects.create(route=route, job=job, sequence=seq, eta=eta,
                                 service_start=base + timedelta(seconds=stop.start),
                                 service_end=base + timedelta(seconds=stop.end), travel_s=stop.travel)
        seq += 1
        if job.technician_id != technician.pk or job.status == JobStatus.NEW:
            job = job_assign(job=job, technician=technician)
        if job.eta != eta:
            job_eta_set(job=job, eta=eta)


def _route_updates_emit(*, plan: DayPlan, day: date, touched: set[int], unassigned: dict[int, str]) -> None:
    """route.updated to every technician whose route changed, and to dispatch."""
    # Technicians who had jobs in the previous version but none now learn it too.
    previous = set(ServiceJob.objects.filter(pk__in=list(unassigned), technician__isnull=False)
                   .values_list("technician_id", flat=True))
    for tech_id in sorted(touched | previous):
        events.emit([g.technician_group(tech_id), g.dispatch_group()], "route.updated", row_id=plan.pk,
                    data={"day": day.isoformat(), "technician": tech_id, "version": plan.version,
                          "reason": plan.reason})
    if not touched:
        events.emit([g.dispatch_group()], "route.updated", row_id=plan.pk,
                    data={"day": day.isoformat(), "technician": None, "version": plan.version, "reason": plan.reason})


def _summary(day, solution, unassigned, problem, solve_ms, reason, base) -> dict[str, Any]:
    def iso(seconds: int) -> str:
        return timezone.localtime(base + timedelta(seconds=seconds)).isoformat()

    routes = []
    for r in solution.routes:
        routes.append({
            "technician": r.vehicle, "leaves": iso(r.start), "returns": iso(r.end), "travel_s": r.travel,
            "stops": [{"job": s.job, "eta": iso(s.arrival), "start": iso(s.start), "end": iso(s.end),
                       "travel_s": s.travel} for s in r.stops],
        })
    for tech_id, job in problem.fixed.items():
        routes.append({"technician": tech_id, "fixed_job": job.pk})
    return {
        "day": day.isoformat(), "reason": reason, "routes": routes,
        "unassigned": [{"job": j, "reason": str(why)} for j, why in sorted(unassigned.items())],
        "total_travel_s": solution.travel, "solve_ms": round(solve_ms, 1), "matrix": problem.source,
        "jobs": len(problem.jobs) + len(problem.fixed) + len(problem.unroutable),
        "technicians": len(problem.vehicles),
    }


def day_replan(*, day: date, reason: str, job_id: int | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Re-optimise `day` keeping started jobs fixed; updates ETAs and pushes route.updated.
    Called by the integration layer on a booking, an emergency or a cancellation. A job change
    that the current plan already reflects (above all the plan's own assignments, which come back
    through the outbox) re-plans nothing, so planning never feeds on itself."""
    if job_id is not None and _plan_reflects(day=day, job_id=job_id):
        return {"day": day.isoformat(), "skipped": True, "reason": "the plan already reflects this job", "job": job_id}
    # One changed job: the stored plan is nearly right, a short search from it suffices (stored
    # within ROUTE_REPLAN_TIMEOUT_S + about half a second).
    summary = day_plan(day=day, reason=reason if job_id is None else f"{reason} #{job_id}", now=now,
                       timeout_s=conf.ROUTE_REPLAN_TIMEOUT_S)
    return {"day": summary["day"], "routes": len(summary["routes"]), "unassigned": len(summary["unassigned"]),
            "total_travel_s": summary["total_travel_s"], "job": job_id}


def horizon_plan(*, today: date | None = None, days: int | None = None, timeout_s: float | None = None) -> dict[str, Any]:
    """The nightly plan of the coming `days` (PLAN_HORIZON_DAYS): every day with an open job or a
    stored plan is optimised, so each open job with a window in the horizon has a route and an ETA.
    Closed days (public holidays, hvaccrm.closed_days) are left out, today aside: an emergency
    taken on a holiday still needs its route."""
    today = today or timezone.localdate()
    days = conf.PLAN_HORIZON_DAYS if days is None else days
    planned, skipped = [], []
    stored = set(DayPlan.objects.filter(day__gte=today, day__lt=today + timedelta(days=days))
                 .values_list("day", flat=True))
    for i in range(days):
        day = today + timedelta(days=i)
        if (i and day_is_closed(day)) or (day not in stored and not jobs_of_day(day=day)):
            skipped.append(day.isoformat())
            continue
        summary = day_plan(day=day, reason="horizon", timeout_s=timeout_s)
        planned.append({"day": summary["day"], "jobs": summary["jobs"], "unassigned": len(summary["unassigned"])})
    return {"planned": planned, "skipped": skipped}


def _plan_reflects(*, day: date, job_id: int) -> bool:
    job = ServiceJob.objects.filter(pk=job_id).values("status", "technician_id").first()
    plan = DayPlan.objects.filter(day=day).first()
    if job is None or plan is None:
        return False
    stop = RouteStop.objects.filter(route__plan=plan, job_id=job_id).values("route__technician_id").first()
    if job["status"] in (JobStatus.SCHEDULED, *STARTED):
        return stop is not None and stop["route__technician_id"] == job["technician_id"]
    if job["status"] == JobStatus.NEW:
        return stop is None and UnassignedJob.objects.filter(plan=plan, job_id=job_id).exists()
    return stop is None and not UnassignedJob.objects.filter(plan=plan, job_id=job_id).exists()


def job_locate(*, job_id: int | None, latitude: float | None, longitude: float | None,
               district_slug: str | None, message_id: int | None = None, dedupe_key: str) -> dict[str, Any]:
    """Put a job (or a message that carries a location) on the map. Idempotent per dedupe_key."""
    done_key = f"mapping:job-locate:{dedupe_key}"
    previous = cache.get(done_key)
    if previous is not None:
        return {**previous, "duplicate": True}
    if job_id is not None:
        job = ServiceJob.objects.get(pk=job_id)
        job = job_location_set(job=job, latitude=latitude, longitude=longitude, district_slug=district_slug,
                               source="mapping")
        result = {"job": job.pk, "district": job.district.slug if job.district_id else None,
                  "latitude": job.latitude, "longitude": job.longitude, "message": message_id}
    else:
        from hvaccrm.geo import district_for_point

        if latitude is not None and longitude is not None:
            district_slug = district_for_point(latitude, longitude) or district_slug
        result = {"job": None, "district": district_slug, "latitude": latitude, "longitude": longitude,
                  "message": message_id}
        if message_id is not None:
            event = events.make_event("message.created", row_id=message_id, data={**result, "marker": True})
            events.send_now([g.dispatch_group()], event)
    # Marked done only when the caller's transaction (the outbox row's) commits: a later step of
    # the row that fails rolls the location back, and the retry must then apply it again.
    transaction.on_commit(lambda: cache.set(done_key, result, timeout=7 * 24 * 3600))
    return result
