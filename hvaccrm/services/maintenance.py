"""Maintenance agreements, the one visit generator and moving a planned visit (closing a visit and
the F-gas register rows: hvaccrm.services.fgas).

Every planned visit (an agreement's seasonal visit, a leak check or yearly service falling due, the
check after a repaired leak) is a ServiceJob with a `period_key`; the database allows one open or
done visit per unit and period, so the generator can run twice, or twice at once, and plan once."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hvaccrm.closed_days import day_is_closed
from hvaccrm.errors import ServiceError
from hvaccrm.models import Agreement, Client, Equipment, ServiceJob, Site, Technician
from hvaccrm.models.jobs import OPEN_STATUSES, JobSource, JobStatus, ServiceType
from hvaccrm.models.maintenance import Season
from hvaccrm.models.outbox import Target
from hvaccrm.services.access import access_record
from hvaccrm.services.outbox import record

# Units cooled in summer are serviced before it; units that heat, before the heating season.
COOLING_KINDS = frozenset({"split_ac", "multi_split", "chiller", "ventilation"})
PLANNED_TYPES = (ServiceType.MAINTENANCE, ServiceType.INSPECTION)
VISIT_DAY = (time(8, 0), time(18, 0))  # a planned visit is wanted on its day, within these hours
MOVE_SALT = "hvaccrm.maintenance.move"
GENERATOR_LOCK = 716_016  # pg_advisory_xact_lock key: one generator run at a time


# --- seasons --------------------------------------------------------------------------------------


def _months(value: str) -> tuple[int, int]:
    first, last = (int(x) for x in value.split("-"))
    return first, last


def season_window(*, season: str, year: int) -> tuple[date, date]:
    """First and last day of a season in a year (settings MAINTENANCE_COOLING/HEATING_MONTHS)."""
    first, last = _months(settings.MAINTENANCE_COOLING_MONTHS if season == Season.COOLING
                          else settings.MAINTENANCE_HEATING_MONTHS)
    end = date(year + (last == 12), last % 12 + 1, 1) - timedelta(days=1)
    return date(year, first, 1), end


def unit_seasons(*, equipment: Equipment, visits_per_year: int) -> list[str]:
    """The season of each of a unit's yearly visits: its own season first, then the other."""
    own = Season.COOLING if equipment.kind in COOLING_KINDS else Season.HEATING
    other = Season.HEATING if own == Season.COOLING else Season.COOLING
    return [own, other][:visits_per_year]


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (timezone.make_aware(datetime.combine(day, VISIT_DAY[0]), tz),
            timezone.make_aware(datetime.combine(day, VISIT_DAY[1]), tz))


def _working_days(first: date, last: date) -> list[date]:
    """Monday to Friday but public holidays: planned visits are not put on closed days (emergencies are)."""
    days = (first + timedelta(days=i) for i in range((last - first).days + 1))
    return [d for d in days if d.weekday() < 5 and not day_is_closed(d)]


# --- capacity -------------------------------------------------------------------------------------


class Capacity:
    """Minutes of technicians' shifts per district and day, minus the open visits already wanted
    there that day; two queries whatever the number of units or agreements."""

    def __init__(self, *, first: date, last: date) -> None:
        self.shift: dict[int, int] = defaultdict(int)
        for tech in Technician.objects.filter(active=True).only("home_district_id", "shift_start", "shift_end"):
            self.shift[tech.home_district_id] += int(tech.shift_hours * 60)
        self.used: dict[tuple[int, date], int] = defaultdict(int)
        start, end = _day_bounds(first)[0], _day_bounds(last)[1] + timedelta(hours=6)
        rows = (ServiceJob.objects.filter(status__in=OPEN_STATUSES, district__isnull=False)
                .filter(Q(scheduled_start__gte=start, scheduled_start__lt=end)
                        | Q(scheduled_start__isnull=True, requested_start__gte=start, requested_start__lt=end))
                .values_list("district_id", "scheduled_start", "requested_start", "estimated_duration_min"))
        for district_id, scheduled, requested, minutes in rows:
            self.used[(district_id, timezone.localdate(scheduled or requested))] += minutes

    def fits(self, *, district_id: int | None, day: date, minutes: int) -> bool:
        # Outside Warsaw no district has a crew of its own: those visits are not capped by district.
        return district_id is None or self.used[(district_id, day)] + minutes <= self.shift.get(district_id, 0)

    def take(self, *, district_id: int | None, day: date, minutes: int) -> None:
        if district_id is not None:
            self.used[(district_id, day)] += minutes


# --- the generator --------------------------------------------------------------------------------


@dataclass
class _Wanted:
    equipment: Equipment
    period_key: str
    first: date
    last: date
    service_type: str
    description: str
    agreement_id: int | None = None
    season: str = ""


def _agreement_visits(*, today: date, horizon: date) -> tuple[list[_Wanted], set[int]]:
    """Each active agreement's seasonal visits for its units whose window meets the horizon."""
    wanted, covered = [], set()
    agreements = (Agreement.objects.filter(state=Agreement.State.ACTIVE, starts_on__lte=horizon, ends_on__gt=today)
                  .prefetch_related("equipment__site"))
    for agreement in agreements:
        for eq in agreement.equipment.all():
            covered.add(eq.pk)
            for season in unit_seasons(equipment=eq, visits_per_year=agreement.visits_per_year):
                for year in {today.year, horizon.year}:
                    a, b = season_window(season=season, year=year)
                    first = max(a, agreement.starts_on, today + timedelta(days=1))
                    last = min(b, agreement.ends_on - timedelta(days=1), horizon)
                    if first > last:
                        continue
                    wanted.append(_Wanted(
                        equipment=eq, period_key=f"agr{agreement.pk}:{year}:{season}", first=first, last=last,
                        service_type=ServiceType.MAINTENANCE, agreement_id=agreement.pk, season=season,
                        description=_("Agreement visit (%(season)s %(year)s).") % {
                            "season": Season(season).label, "year": year},
                    ))
    return wanted, covered


def _due_visits(*, today: date, horizon: date, covered: set[int]) -> list[_Wanted]:
    """The due-date rule for units under no agreement: the leak check or yearly service due first."""
    wanted = []
    units = (Equipment.objects.select_related("site").filter(site__client__anonymised_at__isnull=True)
             .exclude(pk__in=covered))
    for eq in units:
        leak, service = eq.next_leak_check_due, eq.next_maintenance_due
        dues = [d for d in (leak, service) if d is not None and d <= horizon]
        if not dues:
            continue
        due = min(dues)
        is_leak = leak is not None and leak == due
        text = _("F-gas leak check due on %(d)s.") if is_leak else _("Recommended maintenance due on %(d)s.")
        first = max(today + timedelta(days=1), due - timedelta(days=14))
        wanted.append(_Wanted(
            equipment=eq, period_key=f"{'leak' if is_leak else 'service'}:{due.isoformat()}", first=first,
            last=max(due, first + timedelta(days=6)), description=text % {"d": due},
            service_type=ServiceType.INSPECTION if is_leak else ServiceType.MAINTENANCE,
        ))
    return wanted


def _taken(wanted: list[_Wanted]) -> tuple[set[tuple[int, str]], set[int]]:
    """(unit, period) pairs that already have a visit, and units with an open planned visit."""
    units = {w.equipment.pk for w in wanted}
    rows = (ServiceJob.objects.filter(equipment_id__in=units)
            .filter(Q(period_key__isnull=False) | Q(status__in=OPEN_STATUSES, service_type__in=PLANNED_TYPES))
            .exclude(status=JobStatus.CANCELLED).values_list("equipment_id", "period_key", "status"))
    periods, open_units = set(), set()
    for unit, key, status in rows:
        if key:
            periods.add((unit, key))
        if status in OPEN_STATUSES:
            open_units.add(unit)
    return periods, open_units


def maintenance_visits_plan(*, today: date | None = None, horizon_days: int | None = None) -> dict[str, Any]:
    """The one generator: agreement visits for units under an agreement, the due-date rule for the
    others, each put on the first working day of its window that its district's shifts can take.
    Visits that fit no day wait for a later night. Returns the counts and the days planned."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=horizon_days or settings.MAINTENANCE_HORIZON_DAYS)
    with transaction.atomic():
        # Two runs at once would both see the same free capacity: the second waits for the first
        # and then finds its visits. The unique constraint stays the guarantee against duplicates.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [GENERATOR_LOCK])
        agreement_wanted, covered = _agreement_visits(today=today, horizon=horizon)
        wanted = agreement_wanted + _due_visits(today=today, horizon=horizon, covered=covered)
        periods, open_units = _taken(wanted)
        capacity = Capacity(first=today + timedelta(days=1), last=horizon + timedelta(days=7))
        rows, deferred, days = [], 0, set()
        window_days: dict[tuple[date, date], list[date]] = {}
        hints: dict[tuple[int | None, date, date], int] = {}
        now = timezone.now()
        for w in sorted(wanted, key=lambda w: (w.last, w.equipment.pk)):
            eq, site = w.equipment, w.equipment.site
            if (eq.pk, w.period_key) in periods or (w.agreement_id is None and eq.pk in open_units):
                continue
            # Days found full for this district and window stay full this run: start past them.
            hint_key = (site.district_id, w.first, w.last)
            if (w.first, w.last) not in window_days:
                window_days[(w.first, w.last)] = _working_days(w.first, w.last)
            candidates = window_days[(w.first, w.last)]
            i = hints.get(hint_key, 0)
            while i < len(candidates) and not capacity.fits(district_id=site.district_id, day=candidates[i], minutes=60):
                i += 1
            hints[hint_key] = i
            if i == len(candidates):
                deferred += 1
                continue
            day = candidates[i]
            capacity.take(district_id=site.district_id, day=day, minutes=60)
            periods.add((eq.pk, w.period_key))
            open_units.add(eq.pk)
            start, end = _day_bounds(day)
            days.add(day)
            rows.append(ServiceJob(
                client_id=site.client_id, site=site, equipment=eq, service_type=w.service_type,
                description=w.description, source=JobSource.SYSTEM, requested_start=start, requested_end=end,
                estimated_duration_min=60, latitude=site.latitude, longitude=site.longitude,
                district_id=site.district_id, status=JobStatus.NEW, status_changed_at=now,
                agreement_id=w.agreement_id, period_key=w.period_key, season=w.season,
            ))
        # One INSERT whatever the number of visits: the query count stays flat (bench_maintenance).
        ServiceJob.objects.bulk_create(rows, ignore_conflicts=True)
    return {"created": len(rows), "deferred": deferred, "days": sorted(d.isoformat() for d in days)}


# --- agreements -----------------------------------------------------------------------------------


def agreement_check(*, client: Client, sites: list[Site], equipment: list[Equipment], starts_on: date,
                     ends_on: date, price: Decimal, visits_per_year: int) -> None:
    errors: dict[str, list[str]] = {}
    if ends_on <= starts_on:
        errors["ends_on"] = [_("An agreement must end after it starts.")]
    if price is None or Decimal(price) < 0:
        errors["price"] = [_("The price cannot be negative.")]
    if visits_per_year not in (1, 2):
        errors["visits_per_year"] = [_("One or two visits a year.")]
    if any(s.client_id != client.pk for s in sites):
        errors["sites"] = [_("Every site must be the client's.")]
    site_ids = {s.pk for s in sites}
    if not equipment:
        errors["equipment"] = [_("Choose the units the agreement covers.")]
    elif any(e.site_id not in site_ids for e in equipment):
        errors["equipment"] = [_("Every unit must be at one of the chosen sites.")]
    if errors:
        first = next(iter(errors.values()))[0]
        raise ServiceError(first, fields=errors)


def agreement_create(*, client: Client, sites: list[Site], equipment: list[Equipment], starts_on: date,
                     ends_on: date, price: Decimal, visits_per_year: int = 1, auto_renew: bool = False,
                     actor=None, renewed_from: Agreement | None = None) -> Agreement:
    """A new active agreement; nothing is saved when a rule is broken."""
    sites, equipment = list(sites), list(equipment)
    agreement_check(client=client, sites=sites, equipment=equipment, starts_on=starts_on, ends_on=ends_on,
                     price=price, visits_per_year=visits_per_year)
    with transaction.atomic():
        agreement = Agreement.objects.create(
            client=client, visits_per_year=visits_per_year, price=price, starts_on=starts_on, ends_on=ends_on,
            auto_renew=auto_renew, renewed_from=renewed_from,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        agreement.sites.set(sites)
        agreement.equipment.set(equipment)
        access_record(actor=actor, action="create", obj=agreement, subject_client_id=client.pk,
                      purpose="maintenance agreement created")
    return agreement


def agreement_renew(*, agreement: Agreement, actor=None) -> Agreement:
    """The next term: same units, visits and price, starting when this one ends, as long as it."""
    if hasattr(agreement, "renewal"):
        raise ServiceError(_("This agreement was already renewed."), code="already_renewed")
    if agreement.state != Agreement.State.ACTIVE:
        raise ServiceError(_("An ended agreement cannot be renewed; create a new one."), code="ended")
    length = agreement.ends_on - agreement.starts_on
    return agreement_create(
        client=agreement.client, sites=list(agreement.sites.all()), equipment=list(agreement.equipment.all()),
        starts_on=agreement.ends_on, ends_on=agreement.ends_on + length, price=agreement.price,
        visits_per_year=agreement.visits_per_year, auto_renew=agreement.auto_renew, actor=actor,
        renewed_from=agreement,
    )


def agreement_end(*, agreement: Agreement, on: date | None = None, actor=None) -> Agreement:
    """End an agreement (early, or at its end): its visits not yet planned with a technician are
    cancelled; the units fall back to the due-date rule."""
    from hvaccrm.services.jobs import job_transition  # jobs imports this module for completion

    on = on or timezone.localdate()
    with transaction.atomic():
        agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
        if agreement.state == Agreement.State.ENDED:
            raise ServiceError(_("This agreement has already ended."), code="ended")
        if on < agreement.starts_on:
            raise ServiceError(_("An agreement cannot end before it starts."), fields={"ended_on": [_("Too early.")]})
        agreement.state, agreement.ended_on = Agreement.State.ENDED, on
        agreement.save(update_fields=["state", "ended_on"])
        for job in ServiceJob.objects.filter(agreement=agreement, status=JobStatus.NEW, requested_start__date__gt=on):
            job_transition(job=job, to_status=JobStatus.CANCELLED, actor=actor, reason="agreement ended")
        access_record(actor=actor, action="change", obj=agreement, subject_client_id=agreement.client_id,
                      purpose="maintenance agreement ended", fields=["state", "ended_on"])
    return agreement


def agreements_roll(*, today: date | None = None) -> dict[str, int]:
    """Nightly: agreements past their end are renewed (automatic renewal) or ended."""
    today = today or timezone.localdate()
    renewed = ended = 0
    for agreement in Agreement.objects.filter(state=Agreement.State.ACTIVE, ends_on__lte=today):
        if agreement.auto_renew and not hasattr(agreement, "renewal"):
            agreement_renew(agreement=agreement)
            renewed += 1
        agreement_end(agreement=agreement, on=agreement.ends_on)
        ended += 1
    return {"renewed": renewed, "ended": ended}


# --- moving a planned visit -----------------------------------------------------------------------


def visit_allowed_range(*, job: ServiceJob, today: date | None = None) -> tuple[date, date]:
    """The days a planned visit may be moved to: its season (agreement visits) or the horizon."""
    today = today or timezone.localdate()
    first = today + timedelta(days=1)
    if job.season and job.period_key and job.period_key.startswith("agr"):
        year = int(job.period_key.split(":")[1])
        a, b = season_window(season=job.season, year=year)
        return max(a, first), b
    return first, today + timedelta(days=settings.MAINTENANCE_HORIZON_DAYS)


def visit_windows_open(*, job: ServiceJob, today: date | None = None, limit: int = 10) -> list[date]:
    """Other working days of the visit's range that its district's shifts can still take."""
    first, last = visit_allowed_range(job=job, today=today)
    if first > last:
        return []
    capacity = Capacity(first=first, last=last)
    current = timezone.localdate(job.requested_start) if job.requested_start else None
    return [d for d in _working_days(first, last)
            if d != current and capacity.fits(district_id=job.district_id, day=d, minutes=job.estimated_duration_min)
            ][:limit]


def _visit_day(job: ServiceJob) -> str:
    return timezone.localdate(job.requested_start).isoformat() if job.requested_start else ""


def visit_move_token(*, job: ServiceJob) -> str:
    """The signed token of a reminder's one-click move link. It names the visit's current day, so
    it works once: after a move (by anyone) the day differs and the link is refused."""
    return signing.dumps({"job": job.pk, "day": _visit_day(job)}, salt=MOVE_SALT, compress=True)


def visit_from_move_token(*, token: str, today: date | None = None) -> ServiceJob:
    """The visit a move link names, while it can still be moved by that link; else a 404 error
    (bad signature, expired, already used, the visit given to a technician, cancelled or past)."""
    invalid = ServiceError(_("This link is not valid or has expired."), code="bad_link", status_code=404)
    try:
        data = signing.loads(token, salt=MOVE_SALT, max_age=timedelta(days=settings.MAINTENANCE_REMINDER_DAYS + 7))
    except signing.BadSignature as exc:
        raise invalid from exc
    job = ServiceJob.objects.filter(pk=data.get("job")).select_related("site", "equipment").first()
    if job is None or not job.period_key or job.status != JobStatus.NEW:
        raise invalid
    if data.get("day") != _visit_day(job) or job.requested_start is None:
        raise ServiceError(_("This link was already used: the visit has been moved."), code="used_link",
                           status_code=404)
    if timezone.localdate(job.requested_start) <= (today or timezone.localdate()):
        raise invalid
    return job


def visit_move_to_day(*, job: ServiceJob, day: date, actor=None, today: date | None = None,
                      by_client: bool = False) -> ServiceJob:
    """Move a planned visit to another open day of its window; outside its season or on a full day
    it is refused and nothing changes. A move by the client (the reminder's link) records the
    office's notice (notifications, visit.moved) in the same transaction."""
    from hvaccrm.services.jobs import _announce  # the job change is announced like any other

    with transaction.atomic():
        job = ServiceJob.objects.select_for_update(of=("self",)).select_related("district").get(pk=job.pk)
        if not job.period_key or job.status != JobStatus.NEW:
            raise ServiceError(_("Only a planned visit not yet given to a technician can be moved here."),
                               code="not_movable")
        first, last = visit_allowed_range(job=job, today=today)
        if not first <= day <= last:
            raise ServiceError(_("Choose a day between %(a)s and %(b)s: the visit belongs in that season.")
                               % {"a": first, "b": last}, fields={"day": [_("Outside the visit's season.")]})
        if day not in visit_windows_open(job=job, today=today, limit=400):
            raise ServiceError(_("That day is full or not a working day; choose another."),
                               fields={"day": [_("Not an open day.")]})
        previous = _visit_day(job)
        job.requested_start, job.requested_end = _day_bounds(day)
        job.save(update_fields=["requested_start", "requested_end", "updated_at"])
        _announce(job, change="rescheduled", source="core")
        if by_client:
            record(source="core", target=Target.NOTIFICATIONS, kind="visit.moved", obj=job,
                   payload={"job": job.pk, "day": day.isoformat(), "previous_day": previous})
        access_record(actor=actor, action="change", obj=job, subject_client_id=job.client_id,
                      purpose="planned visit moved", fields=["requested_start", "requested_end"])
    return job
