"""Automatic scheduling: proposed slots for a booking that fit the day's plans, and planned
maintenance for equipment whose leak check or yearly service falls due."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hvaccrm.closed_days import day_is_closed
from hvaccrm.errors import ServiceError
from hvaccrm.models import ServiceJob, Technician
from hvaccrm.models.jobs import OPEN_STATUSES
from hvaccrm.selectors import technician_skills
from hvaccrm.services import job_assign, maintenance_visits_plan
from mapping import conf, travel
from mapping.models import RouteStop, SlotProposal
from mapping.services.routing import day_start, job_required_skills, technician_start_point

SLOT_GRANULARITY_S = 15 * 60
REPLAN_AHEAD_DAYS = 2  # generated visits this close join today's and tomorrow's routes at once


def _busy(tech: Technician, day: date) -> list[tuple[datetime, datetime, float, float]]:
    """(start, end, lat, lng) of what the technician already does that day: plan stops, else jobs."""
    start, end = day_start(day), day_start(day + timedelta(days=1))
    stops = list(RouteStop.objects.filter(route__technician=tech, route__plan__day=day)
                 .select_related("job").order_by("service_start"))
    if stops:
        return [(s.service_start, s.service_end, s.job.latitude, s.job.longitude) for s in stops
                if s.job.latitude is not None]
    jobs = ServiceJob.objects.filter(technician=tech, status__in=OPEN_STATUSES, scheduled_start__gte=start,
                                     scheduled_start__lt=end, latitude__isnull=False).order_by("scheduled_start")
    return [(j.scheduled_start, j.scheduled_end or j.scheduled_start + timedelta(minutes=j.estimated_duration_min),
             j.latitude, j.longitude) for j in jobs]


def _seconds(a: tuple[float, float], b: tuple[float, float]) -> int:
    return travel.matrix_haversine([a, b], [None, None], detour=conf.ROUTE_DETOUR_FACTOR)[0][1]


def slot_candidates(*, job: ServiceJob, days: list[date], now: datetime | None = None) -> list[dict[str, Any]]:
    """Every gap in a suitable technician's day where the job fits, with the extra travel it costs."""
    now = now or timezone.now()
    if job.latitude is None:
        return []
    need = job_required_skills(job)
    duration = timedelta(minutes=job.estimated_duration_min)
    here = (job.latitude, job.longitude)
    out = []
    for tech in Technician.objects.filter(active=True).select_related("home_district").order_by("pk"):
        home = technician_start_point(tech)
        for day in days:
            if day_is_closed(day) or not need <= technician_skills(technician=tech, on=day):
                continue
            base = day_start(day)
            shift_a = base + timedelta(hours=tech.shift_start.hour, minutes=tech.shift_start.minute)
            shift_b = base + timedelta(hours=tech.shift_end.hour, minutes=tech.shift_end.minute)
            busy = _busy(tech, day)
            if len(busy) >= tech.max_jobs_per_day:
                continue
            points = [(shift_a, shift_a, *home)] + busy + [(shift_b, shift_b, *home)]
            for (_a, prev_end, plat, plng), (next_start, _b, nlat, nlng) in zip(points, points[1:], strict=False):
                to_job = _seconds((plat, plng), here)
                from_job = _seconds(here, (nlat, nlng))
                direct = _seconds((plat, plng), (nlat, nlng))
                earliest = max(prev_end + timedelta(seconds=to_job), now)
                if job.requested_start:
                    earliest = max(earliest, job.requested_start)
                # Round up to a quarter hour: clients are offered tidy times.
                offset = (earliest - base).total_seconds()
                earliest = base + timedelta(seconds=-(-offset // SLOT_GRANULARITY_S) * SLOT_GRANULARITY_S)
                latest_end = next_start - timedelta(seconds=from_job)
                if job.requested_end:
                    latest_end = min(latest_end, job.requested_end + duration)
                if earliest + duration <= latest_end:
                    out.append({"technician": tech, "start": earliest, "end": earliest + duration,
                                "extra_travel_s": max(0, to_job + from_job - direct)})
    out.sort(key=lambda c: (c["extra_travel_s"], c["start"]))
    return out


def slot_propose(*, job: ServiceJob, days: int = 5, count: int | None = None, now: datetime | None = None) -> list[SlotProposal]:
    """Replace the job's open proposals with the `count` cheapest slots over the next `days` days
    (one per technician and day, so the dispatcher gets a real choice)."""
    now = now or timezone.now()
    count = count or conf.SLOT_PROPOSALS
    first = (job.requested_start and timezone.localdate(job.requested_start)) or timezone.localdate(now)
    first = max(first, timezone.localdate(now))
    candidates = slot_candidates(job=job, days=[first + timedelta(days=i) for i in range(days)], now=now)
    chosen, seen = [], set()
    for c in candidates:
        key = (c["technician"].pk, timezone.localdate(c["start"]))
        if key in seen:
            continue
        seen.add(key)
        chosen.append(c)
        if len(chosen) == count:
            break
    with transaction.atomic():
        SlotProposal.objects.filter(job=job, accepted_at__isnull=True).delete()
        return [
            SlotProposal.objects.create(job=job, technician=c["technician"], start=c["start"], end=c["end"],
                                        extra_travel_s=c["extra_travel_s"], rank=i + 1)
            for i, c in enumerate(chosen)
        ]


def slot_accept(*, proposal: SlotProposal, actor=None) -> ServiceJob:
    """The dispatcher takes a proposal: the job is assigned and scheduled in that slot."""
    with transaction.atomic():
        proposal = SlotProposal.objects.select_for_update().select_related("job", "technician").get(pk=proposal.pk)
        if proposal.accepted_at is not None:
            raise ServiceError(_("This proposal was already accepted."), code="already_accepted")
        # A taken proposal is the office's choice of time: the technician holds it like a board slot.
        job = _slot_hold(job=proposal.job, technician=proposal.technician, start=proposal.start, end=proposal.end,
                         actor=actor, reason="slot proposal accepted")
        proposal.accepted_at = timezone.now()
        proposal.save(update_fields=["accepted_at"])
        SlotProposal.objects.filter(job=job, accepted_at__isnull=True).delete()
    return job


def job_assign_slot(*, job: ServiceJob, technician: Technician, start: datetime, actor,
                    now: datetime | None = None) -> ServiceJob:
    """A dispatcher drags a job onto a technician's time axis: the technician holds
    [start, start + estimated duration). The unit's skills and the F-gas certificate are checked
    (job_assign); a slot in the past, on a closed day or overlapping another held slot of the
    technician is refused with a clear message and nothing changes. The overlap is decided by the
    database's exclusion constraint, so two dispatchers at the same moment cannot both win."""
    now = now or timezone.now()
    end = start + timedelta(minutes=job.estimated_duration_min)
    day = timezone.localdate(start)
    if start < now:
        raise ServiceError(_("That time has passed; choose a later one."), code="slot_past",
                           fields={"start": [_("In the past.")]})
    if day_is_closed(day):
        raise ServiceError(_("%(day)s is a public holiday the company keeps closed.") % {"day": day},
                           code="slot_closed_day", fields={"start": [_("A closed day.")]})
    missing = job_required_skills(job) - technician_skills(technician=technician, on=day)
    if missing:
        raise ServiceError(_("%(who)s lacks what this job needs: %(skills)s.")
                           % {"who": technician, "skills": ", ".join(sorted(missing))},
                           code="slot_skills", fields={"technician": [_("Not qualified for this job.")]})
    return _slot_hold(job=job, technician=technician, start=start, end=end, actor=actor,
                      reason="placed on the day board")


def _slot_hold(*, job: ServiceJob, technician: Technician, start: datetime, end: datetime, actor,
               reason: str) -> ServiceJob:
    """job_assign with the slot held; the database's refusal of an overlap becomes a clear message."""
    try:
        with transaction.atomic():
            return job_assign(job=job, technician=technician, scheduled_start=start, scheduled_end=end,
                              actor=actor, reason=reason, hold_slot=True)
    except IntegrityError as exc:
        if "job_no_overlapping_held_slots" not in str(exc):
            raise
        raise ServiceError(_("%(who)s already has a job between %(a)s and %(b)s; choose another time or technician.")
                           % {"who": technician, "a": timezone.localtime(start).strftime("%H:%M"),
                              "b": timezone.localtime(end).strftime("%H:%M")},
                           code="slot_taken", status_code=409, fields={"start": [_("Overlaps another job.")]})


def maintenance_jobs_create(*, today: date | None = None, horizon_days: int | None = None) -> dict[str, Any]:
    """The nightly run: the core's one generator plans agreement visits and due leak checks and
    services (`hvaccrm.services.maintenance_visits_plan`); the days about to come are re-planned
    after commit so the new visits join the routes, later days are planned with the rest."""
    result = maintenance_visits_plan(today=today, horizon_days=horizon_days)
    first = today or timezone.localdate()
    soon = [d for d in result["days"] if date.fromisoformat(d) <= first + timedelta(days=REPLAN_AHEAD_DAYS)]
    if soon:
        from mapping.tasks import day_replan  # the tasks module imports the services

        transaction.on_commit(lambda: [day_replan.delay(d, "maintenance") for d in soon])
    return result
