"""The portal's reads. Every query is scoped to the clients linked to the signed-in user, so an id
that belongs to someone else simply is not found (404), never shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from hvaccrm.closed_days import day_is_closed
from hvaccrm.models import (
    AccessRecord,
    Agreement,
    Client,
    Consent,
    Equipment,
    JobFeedback,
    ServiceJob,
    Site,
    Technician,
)
from hvaccrm.models.jobs import OPEN_STATUSES, JobStatus
from hvaccrm.privacy import client_export_all
from hvaccrm.selectors import job_history
from portal import conf
from portal.models import ErasureRequest

# --- whose data ---------------------------------------------------------------------------------


def client_list_for_user(*, user) -> list[Client]:
    """The clients this login may act for (a user may be linked to several, e.g. home and firm);
    one query per request, remembered on the user object."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_portal_clients", None)
    if cached is None:
        cached = list(Client.objects.filter(users=user, anonymised_at__isnull=True).order_by("pk"))
        user._portal_clients = cached
    return cached


def client_ids_for_user(*, user) -> list[int]:
    return [c.pk for c in client_list_for_user(user=user)]


def client_for_user(*, user) -> Client | None:
    """The client whose account the portal shows: the first one linked to the login."""
    clients = client_list_for_user(user=user)
    return clients[0] if clients else None


# --- sites and equipment ------------------------------------------------------------------------


# A district's boundary (GeoJSON, kilobytes: decoded for every row that joins its district) is shown
# on no portal page: the joins below leave it out (issue 21: most of a dashboard's query CPU).
NO_BOUNDARY = {"site": ("district__geometry",), "equipment": ("site__district__geometry",),
               "job": ("site__district__geometry",)}


def site_list(*, user) -> QuerySet[Site]:
    return (
        Site.objects.filter(client_id__in=client_ids_for_user(user=user))
        .select_related("district").defer(*NO_BOUNDARY["site"])
        .prefetch_related(Prefetch("equipment", queryset=Equipment.objects.order_by("id")))
        .order_by("id")
    )


def site_get(*, user, site_id: int) -> Site:
    site = (Site.objects.filter(pk=site_id, client_id__in=client_ids_for_user(user=user)).select_related("district")
            .defer(*NO_BOUNDARY["site"]).first())
    if site is None:
        raise Http404
    return site


def equipment_get(*, user, equipment_id: int) -> Equipment:
    unit = (
        Equipment.objects.filter(pk=equipment_id, site__client_id__in=client_ids_for_user(user=user))
        .select_related("site", "site__district").defer(*NO_BOUNDARY["equipment"])
        .first()
    )
    if unit is None:
        raise Http404
    return unit


def equipment_history(*, equipment: Equipment, limit: int = 50) -> list[ServiceJob]:
    """Finished visits on this unit, newest first (its service history)."""
    return list(
        ServiceJob.objects.filter(equipment=equipment, client_id=equipment.site.client_id, status=JobStatus.COMPLETED)
        .select_related("technician__user")
        .order_by("-completed_at", "-id")[:limit]
    )


# --- visits -------------------------------------------------------------------------------------


def visit_list_all(*, user) -> QuerySet[ServiceJob]:
    """The client's visits, unjoined, with `when` (scheduled, else requested, else created) to sort by.
    Lists page over this cheap query and then load the page's rows with visits_hydrate: joining
    sites and units before the LIMIT made PostgreSQL hash whole tables (10,000+ rows) per page."""
    return ServiceJob.objects.filter(client_id__in=client_ids_for_user(user=user)).annotate(
        when=Coalesce("scheduled_start", "requested_start", "created_at"))


def visit_list_upcoming(*, user) -> QuerySet[ServiceJob]:
    return visit_list_all(user=user).filter(status__in=OPEN_STATUSES).order_by("when", "id")


def visit_list_past(*, user) -> QuerySet[ServiceJob]:
    return visit_list_all(user=user).exclude(status__in=OPEN_STATUSES).order_by("-when", "-id")


def visits_hydrate(qs: QuerySet[ServiceJob] | list[int]) -> list[ServiceJob]:
    """The page's visits with their site, district, unit and technician, in the order given (one query)."""
    ids = list(qs) if isinstance(qs, list) else list(qs.values_list("pk", flat=True))
    if not ids:
        return []
    rows = ServiceJob.objects.filter(pk__in=ids).select_related(
        "site", "site__district", "equipment", "technician__user").defer(*NO_BOUNDARY["job"])
    by_id = {job.pk: job for job in rows}
    return [by_id[pk] for pk in ids if pk in by_id]


def visit_get(*, user, job_id: int) -> ServiceJob:
    job = (visit_list_all(user=user).filter(pk=job_id)
           .select_related("site", "site__district", "equipment", "technician__user", "feedback")
           .defer(*NO_BOUNDARY["job"]).first())
    if job is None:
        raise Http404
    return job


def visit_start(job: ServiceJob) -> datetime | None:
    return job.scheduled_start or job.requested_start


def visit_is_today(job: ServiceJob, *, now: datetime | None = None) -> bool:
    start = visit_start(job)
    now = timezone.localtime(now or timezone.now())
    return start is not None and timezone.localtime(start).date() == now.date() and job.is_open


def visit_changeable(job: ServiceJob, *, now: datetime | None = None) -> bool:
    """Whether the client may still cancel or move it: new/scheduled and before the cut-off."""
    if job.status not in (JobStatus.NEW, JobStatus.SCHEDULED):
        return False
    start = visit_start(job)
    if start is None:
        return True
    return (now or timezone.now()) <= start - timedelta(hours=conf.CHANGE_CUTOFF_HOURS)


def visit_feedback_allowed(job: ServiceJob) -> bool:
    return job.status == JobStatus.COMPLETED and not _has_feedback(job)


def _has_feedback(job: ServiceJob) -> bool:
    try:
        return job.feedback is not None
    except JobFeedback.DoesNotExist:
        return False


def technician_name(job: ServiceJob) -> str:
    if not job.technician_id:
        return ""
    user = job.technician.user
    return user.get_full_name() or user.get_username()


def visit_history(job: ServiceJob) -> list[dict[str, Any]]:
    """What the client may see of their visit's history, newest first: each status change and each
    new time, never the reasons staff typed, descriptions, or who on the staff made the change
    (the core's client-safe history carries none of them)."""
    labels = dict(JobStatus.choices)
    state: dict[str, Any] = {}  # the fields as they stood after each entry (entries hold only changes)
    rows = []
    for entry in job_history(job_id=job.pk, client_safe=True):
        changes = entry["changes"]
        state.update({field: after for field, (_before, after) in changes.items()})
        row: dict[str, Any] = {"at": entry["at"]}
        if "status" in changes:
            row["status"] = labels.get(state["status"], state["status"])
        for name in ("scheduled", "requested"):
            if {f"{name}_start", f"{name}_end"} & set(changes):
                row[name] = (state.get(f"{name}_start"), state.get(f"{name}_end"))
        if changes.get("completed_at", (None, None))[1]:
            row["completed"] = state["completed_at"]
        rows.append(row)
    return rows[::-1]


def visit_card(job: ServiceJob) -> dict[str, Any]:
    """The JSON a live page needs to redraw one visit (status, technician, ETA)."""
    return {
        "id": job.pk, "status": job.status, "status_label": job.get_status_display(),
        "technician": technician_name(job), "eta": job.eta.isoformat() if job.eta else None,
        "eta_label": timezone.localtime(job.eta).strftime("%H:%M") if job.eta else "",
        "scheduled_start": job.scheduled_start.isoformat() if job.scheduled_start else None,
        "scheduled_end": job.scheduled_end.isoformat() if job.scheduled_end else None,
    }


# --- booking windows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    open: bool
    reason: str = ""

    @property
    def key(self) -> str:
        return timezone.localtime(self.start).strftime("%Y-%m-%dT%H")


def _window_bounds(day: date, start_hour: int, end_hour: int) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (timezone.make_aware(datetime.combine(day, time(start_hour)), tz),
            timezone.make_aware(datetime.combine(day, time(end_hour)), tz))


def _day_windows(day: date) -> tuple[tuple[int, int], ...]:
    if day_is_closed(day):
        return ()  # a public holiday the company has not opened: no window, nothing to book
    wd = day.weekday()
    if wd < 5:
        return conf.WEEKDAY_WINDOWS
    if wd == 5:
        return conf.SATURDAY_WINDOWS
    return ()


def window_capacity(*, district_id: int | None) -> int:
    qs = Technician.objects.filter(active=True)
    if district_id is not None:
        qs = qs.filter(home_district_id=district_id)
    return max(1, qs.count()) * conf.WINDOW_JOBS_PER_TECHNICIAN


def window_list(*, site: Site, now: datetime | None = None, exclude_job_id: int | None = None) -> list[Window]:
    """Every window of the coming weeks for a site, each marked open or closed (full / too soon)."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    first = today
    last = today + timedelta(weeks=conf.BOOKING_WEEKS)
    bounds = []
    day = first
    while day <= last:
        bounds += [_window_bounds(day, a, b) for a, b in _day_windows(day)]
        day += timedelta(days=1)
    if not bounds:
        return []
    booked = (
        ServiceJob.objects.filter(status__in=OPEN_STATUSES, district_id=site.district_id)
        .annotate(at=Coalesce("scheduled_start", "requested_start"))
        .filter(at__gte=bounds[0][0], at__lt=bounds[-1][1])
    )
    if exclude_job_id:
        booked = booked.exclude(pk=exclude_job_id)
    starts = list(booked.values_list("at", flat=True))
    capacity = window_capacity(district_id=site.district_id)
    earliest = now + timedelta(hours=conf.BOOKING_LEAD_HOURS)
    windows = []
    for start, end in bounds:
        if start < earliest:
            windows.append(Window(start, end, False, _("too soon")))
            continue
        taken = sum(1 for s in starts if start <= s < end)
        windows.append(Window(start, end, taken < capacity, "" if taken < capacity else _("full")))
    return windows


def window_from_key(key: str) -> tuple[datetime, datetime] | None:
    """Parse a window key (YYYY-MM-DDTHH, local time) into its bounds; None if no such window."""
    try:
        local = datetime.strptime(key, "%Y-%m-%dT%H")
    except (TypeError, ValueError):
        return None
    for a, b in _day_windows(local.date()):
        if a == local.hour:
            return _window_bounds(local.date(), a, b)
    return None


# --- consents -----------------------------------------------------------------------------------


def consent_state(*, client: Client) -> dict[str, Consent | None]:
    """The latest ledger entry per purpose (None: never asked)."""
    latest: dict[str, Consent | None] = {p: None for p in Consent.Purpose.values}
    for entry in Consent.objects.filter(client=client).order_by("-created_at", "-id"):
        if latest.get(entry.purpose) is None:
            latest[entry.purpose] = entry
    return latest


def consent_history(*, client: Client) -> QuerySet[Consent]:
    return Consent.objects.filter(client=client).select_related("recorded_by").order_by("-created_at", "-id")


# --- RODO: export and retained records ----------------------------------------------------------


def client_data_export(*, client: Client) -> dict[str, Any]:
    """Everything the company holds about one client (RODO art. 15 and 20), as plain JSON: every
    app's privacy export (hvaccrm.privacy). The core's part is at the top level, as the export page
    shows it; each other app's part under its name."""
    by_app = client_export_all(client=client)
    core, portal = by_app.pop("core"), by_app.pop("portal")
    windows = portal.pop("preferred_windows")
    for visit in core["visits"]:
        visit["preferred_windows"] = windows.get(visit["id"], [])
    return {"generated_at": timezone.now().isoformat(), **core, **portal, **by_app}


def retained_records(*, client_id: int | None = None) -> list[dict[str, Any]]:
    """What is kept after an erasure, pseudonymised, with the legal reason and how long (privacy page)."""
    counts: dict[str, int | None] = {"jobs": None, "equipment": None, "consents": None, "trail": None}
    if client_id is not None:
        counts = {
            "jobs": ServiceJob.objects.filter(client_id=client_id).count(),
            "equipment": Equipment.objects.filter(site__client_id=client_id).filter(
                Q(refrigerant__gt="") | Q(jobs__isnull=False)).distinct().count(),
            "consents": Consent.objects.filter(client_id=client_id).count(),
            "trail": AccessRecord.objects.filter(subject_client_id=client_id).count(),
        }
    return [
        {"key": "jobs", "count": counts["jobs"], "what": _("Visit records: date, service type, status, district, unit, "
                                                           "technician; no description, address or contact data"),
         "reason": _("Accounting: invoices and their supporting records (Accounting Act, art. 74)"),
         "retention": _("5 years from the end of the year of the visit")},
        {"key": "equipment", "count": counts["equipment"],
         "what": _("Equipment with refrigerant and its leak checks and interventions (F-gas register, CRO)"),
         "reason": _("F-gas Regulation (EU) 2024/573 and the Polish F-gas Act: records of equipment and interventions"),
         "retention": _("5 years from each intervention")},
        {"key": "consents", "count": counts["consents"],
         "what": _("Consent ledger entries (purpose, granted or withdrawn, time), under a pseudonym"),
         "reason": _("Proof of consent (GDPR art. 7(1)) and defence of claims"),
         "retention": _("6 years (limitation period of claims)")},
        {"key": "trail", "count": counts["trail"],
         "what": _("Access trail: who read or changed the data and when, under a pseudonym"),
         "reason": _("Accountability of the controller (GDPR art. 5(2))"),
         "retention": _("As long as the access trail retention (audit)")},
        {"key": "erasure", "count": ErasureRequest.objects.filter(client_id=client_id).count() if client_id else None,
         "what": _("The erasure request itself: client number, dates, who executed it"),
         "reason": _("Proof that the request was carried out (GDPR art. 5(2) and 17)"),
         "retention": _("6 years")},
    ]


# --- maintenance agreements ---------------------------------------------------------------------


def agreement_list(*, user) -> QuerySet[Agreement]:
    """The client's maintenance agreements, newest first (their units and visits: agreements_hydrate)."""
    return Agreement.objects.filter(client_id__in=client_ids_for_user(user=user)).order_by("-starts_on", "-id")


def agreements_hydrate(agreements) -> list[Agreement]:
    """One page of agreements with their units and visits, in three queries whatever the page size."""
    visits = (ServiceJob.objects.exclude(status=JobStatus.CANCELLED)
              .select_related("equipment").order_by(Coalesce("scheduled_start", "requested_start"), "pk"))
    return list(Agreement.objects.filter(pk__in=[a.pk for a in agreements]).order_by("-starts_on", "-id")
                .prefetch_related(Prefetch("equipment", queryset=Equipment.objects.select_related("site").order_by("pk")),
                                  Prefetch("jobs", queryset=visits)))


def agreement_get(*, user, agreement_id: int) -> Agreement:
    """One of the client's agreements with its units and visits; another client's is not found."""
    found = agreement_list(user=user).filter(pk=agreement_id).only("pk").first()
    if found is None:
        raise Http404
    return agreements_hydrate([found])[0]
