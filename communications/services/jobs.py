"""Client notifications along a job's life, in the client's language."""

from __future__ import annotations

from datetime import timedelta

from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from communications import conf
from communications.models import (
    Priority,
)
from communications.services.notifications import NotificationSpec, notify
from hvaccrm.models import ServiceJob
from hvaccrm.models.jobs import JobStatus


def _feedback_link(job_id: int) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        path = reverse("portal:feedback", args=[job_id])
    except NoReverseMatch:  # the portal app may not be mounted in every deployment
        path = f"/portal/visits/{job_id}/feedback/"
    return conf.SITE_URL.rstrip("/") + path


def _local(dt) -> str:
    return timezone.localtime(dt).strftime("%d.%m.%Y %H:%M")


def visit_when(job: ServiceJob) -> str:
    """The visit's date and time as the client reads it, never a question mark: the booked start,
    else the plan's arrival time, else the window the job has (a job the plan has not timed yet)."""
    moment = job.scheduled_start or job.eta
    if moment:
        return _local(moment)
    if job.requested_start:
        a = timezone.localtime(job.requested_start)
        b = timezone.localtime(job.requested_end) if job.requested_end else None
        if b is None:
            return _local(a)
        if a.date() == b.date():
            return f"{a:%d.%m.%Y}, {a:%H:%M}–{b:%H:%M}"
        return f"{a:%d.%m.%Y %H:%M} – {b:%d.%m.%Y %H:%M}"
    return str(_("a time the office will confirm shortly"))


def visit_window(job: ServiceJob) -> str:
    """The booked date and window ("03.12.2026, 10:00–12:00"), else what visit_when says."""
    if job.scheduled_start and job.scheduled_end:
        a, b = timezone.localtime(job.scheduled_start), timezone.localtime(job.scheduled_end)
        if a.date() == b.date():
            return f"{a:%d.%m.%Y}, {a:%H:%M}–{b:%H:%M}"
    return visit_when(job)


def _job_message(job: ServiceJob, change: str, previous_status: str | None,
                 status: str | None = None,
                 previous_technician: int | None = None) -> tuple[str, str, str, dict] | None:
    """(kind, title, body, extra payload) for a client, in the active language; None: nothing to say.

    `status` is the one the change moved the job to (its outbox row's): rows run late, after a
    worker outage, each tell their own transition, not the job's current status. A confirmation or
    "on the way" the job has already moved past says nothing."""
    status = status or job.status
    if status in (JobStatus.SCHEDULED, JobStatus.EN_ROUTE) and job.status != status:
        return None
    if status == JobStatus.SCHEDULED:
        return _scheduled_message(job, change, previous_status, previous_technician)
    # A row of the move new -> scheduled read after the job went on en route (an accepted
    # emergency does both in one transaction) says nothing: the en-route row tells the client once.
    if status == JobStatus.EN_ROUTE and previous_status != JobStatus.NEW and change in ("status", "eta"):
        return _en_route_message(job)
    if status == JobStatus.COMPLETED and previous_status != JobStatus.COMPLETED:
        link = _feedback_link(job.pk)
        return (
            "job.completed",
            _("Your visit is completed"),
            _("Thank you. Please tell us how it went: %(link)s") % {"link": link},
            {"link": link},
        )
    if status == JobStatus.CANCELLED and previous_status != JobStatus.CANCELLED:
        return "job.cancelled", _("Your visit was cancelled"), _("Please contact us to choose a new date."), {}
    return None


def _scheduled_message(job: ServiceJob, change: str, previous_status: str | None,
                       previous_technician: int | None) -> tuple[str, str, str, dict] | None:
    """What a scheduled job tells its client: who comes instead, the confirmation, or a set time."""
    if previous_technician and job.technician_id and job.technician_id != previous_technician:
        # A reassignment (the office's or a sick day's): the client learns who comes, by first name.
        name = job.technician.user.first_name or str(job.technician)
        return (
            "job.technician_changed",
            _("Your technician has changed"),
            _("Your visit on %(when)s will be done by %(name)s.") % {"when": visit_window(job), "name": name},
            {"technician": job.technician_id},
        )
    if previous_status == JobStatus.NEW:
        return (
            "job.confirmed",
            _("Your visit is confirmed"),
            _("We will come on %(when)s. Technician: %(tech)s.")
            % {"when": visit_when(job), "tech": job.technician or "-"},
            {},
        )
    if job.slot_held and change in ("assignment", "rescheduled"):
        # The office set a time (a slot on the board or a proposal taken): the client hears the new
        # one. The optimiser's re-plans hold no slot and tell nothing, so clients are not spammed.
        return (
            "job.time_set",
            _("Your visit's time is set"),
            _("We will come on %(when)s. Technician: %(tech)s.")
            % {"when": visit_when(job), "tech": job.technician or "-"},
            {},
        )
    return None


def _en_route_message(job: ServiceJob) -> tuple[str, str, str, dict]:
    """"The technician is on the way", with the expected arrival when there is one."""
    if job.eta:
        body = _("The technician %(tech)s is on the way. Expected arrival: %(eta)s.") % {
            "tech": job.technician or "",
            "eta": _local(job.eta),
        }
    else:
        body = _("The technician %(tech)s is on the way.") % {"tech": job.technician or ""}
    return "job.en_route", _("The technician is on the way"), body, {"eta": job.eta.isoformat() if job.eta else None}


def job_update_notify(*, job_id: int, change: str, previous_status: str | None, dedupe_key: str,
                      status: str | None = None, previous_technician: int | None = None) -> list[int]:
    """Tell the client's users about a job change, in the client's language (idempotent by key).
    `status`: the status the change moved the job to (None: the job's current one);
    `previous_technician`: a reassignment's technician who lost the job."""
    job = ServiceJob.objects.select_related("client", "technician__user").filter(pk=job_id).first()
    if job is None:
        return []
    language = job.client.preferred_language or "pl"
    with translation.override(language):
        said = _job_message(job, change, previous_status, status, previous_technician)
    if said is None:
        return []
    kind, title, body, extra = said
    user_ids = list(job.client.users.filter(is_active=True).values_list("pk", flat=True))
    return notify(
        user_ids=user_ids,
        spec=NotificationSpec(
            kind=kind,
            title=str(title),
            body=str(body),
            payload={"job": job.pk, "status": status or job.status, "language": language, **extra},
            priority=Priority.NORMAL,
            related_type="hvaccrm.servicejob",
            related_id=str(job.pk),
            dedupe_key=dedupe_key,
        ),
    )


def reminders_send(*, day=None) -> int:
    """Remind clients of tomorrow's visits (run every evening); returns notifications made."""
    day = day or (timezone.localdate() + timedelta(days=1))
    made = 0
    # A job the plan assigned has an arrival time but no booked start: it is reminded too.
    jobs = (ServiceJob.objects.filter(status=JobStatus.SCHEDULED)
            .annotate(visit_at=Coalesce("scheduled_start", "eta", "requested_start"))
            .filter(visit_at__date=day).select_related("client"))
    for job in jobs:
        language = job.client.preferred_language or "pl"
        with translation.override(language):
            title = str(_("Reminder: your visit tomorrow"))
            body = str(_("We will come on %(when)s.") % {"when": visit_when(job)})
        user_ids = list(job.client.users.filter(is_active=True).values_list("pk", flat=True))
        made += len(
            notify(
                user_ids=user_ids,
                spec=NotificationSpec(
                    kind="job.reminder",
                    title=title,
                    body=body,
                    payload={"job": job.pk, "language": language},
                    related_type="hvaccrm.servicejob",
                    related_id=str(job.pk),
                    dedupe_key=f"reminder:{job.pk}:{day.isoformat()}",
                ),
            )
        )
    return made
