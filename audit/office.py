"""The office's home (the admin index): today's counts, each linking to the page that acts on
them, and the links to the office's pages, shown to the roles that may open them (docs/office.md).
Reads only: counts in a handful of queries, the integration state from the health cache."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.health import health_cached
from communications.models import EmergencyAlert
from hvaccrm.models import ServiceJob
from hvaccrm.models.jobs import OPEN_STATUSES, JobStatus, Urgency
from hvaccrm.realtime.groups import is_staff_role

LATE_AFTER = timedelta(minutes=15)  # an arrival this far behind its ETA or booked start is late
OFFICE = ("dispatcher", "manager", "administrator")
AUDIT_READ = ("manager", "administrator")


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    value: Any
    url: str
    alarm: bool = False


def office_counts(*, now=None) -> dict[str, int]:
    """Open jobs, those without a technician, emergencies waiting for an accept, late technicians."""
    now = now or timezone.now()
    late = Q(status__in=[JobStatus.SCHEDULED, JobStatus.EN_ROUTE]) & (
        Q(eta__lt=now - LATE_AFTER) | Q(eta__isnull=True, scheduled_start__lt=now - LATE_AFTER))
    jobs = ServiceJob.objects.filter(status__in=OPEN_STATUSES).aggregate(
        open=Count("pk"), unassigned=Count("pk", filter=Q(technician__isnull=True)),
        emergencies=Count("pk", filter=Q(urgency=Urgency.EMERGENCY, technician__isnull=True)),
        late=Count("technician", filter=late, distinct=True))
    waiting = EmergencyAlert.objects.filter(state__in=[EmergencyAlert.State.OPEN, EmergencyAlert.State.ESCALATED]).count()
    return {"open": jobs["open"], "unassigned": jobs["unassigned"],
            "emergencies": max(waiting, jobs["emergencies"]), "late": jobs["late"]}


def office_home(*, user) -> dict[str, Any]:
    """The tiles and links of the admin index for `user` (links only to pages their role opens)."""
    if not is_staff_role(user, *OFFICE):
        return {"tiles": [], "links": []}
    counts = office_counts()
    health = health_cached() or {}
    state = health.get("state") or "unknown"
    audit = is_staff_role(user, *AUDIT_READ)
    board, inbox = reverse("mapping:board"), reverse("communications:inbox")
    jobs = reverse("admin:hvaccrm_servicejob_changelist")
    tiles = [
        Tile("open", _("Open jobs"), counts["open"], f"{jobs}?status__in=new,scheduled,en_route,on_site"),
        Tile("unassigned", _("Unassigned"), counts["unassigned"], board, counts["unassigned"] > 0),
        Tile("emergencies", _("Emergencies waiting"), counts["emergencies"], inbox, counts["emergencies"] > 0),
        Tile("late", _("Technicians late"), counts["late"], reverse("mapping:dispatch"), counts["late"] > 0),
        Tile("health", _("Integration health"), state,
             reverse("audit:dashboard") if audit else "", state not in ("green", "unknown")),
    ]
    links = [
        (_("New phone booking"), reverse("integration:new_job")),
        (_("Inbox"), inbox), (_("Day board"), board), (_("Dispatch map"), reverse("mapping:dispatch")),
        (_("Search"), reverse("prophecy:search")), (_("Forecasts"), reverse("prophecy:dashboard")),
    ]
    if audit:
        links += [(_("Audit dashboard"), reverse("audit:dashboard")), (_("Data consistency"), reverse("audit:consistency")),
                  (_("Consistency checks: dry run, repair"), reverse("admin:audit_consistencycheck_changelist")),
                  (_("Audit checkpoints"), reverse("audit:checkpoints")), (_("Access trail"), reverse("audit:access_trail"))]
    return {"tiles": tiles, "links": links}
