"""Service jobs: creation, assignment, the status machine, ETA and location, feedback."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import pghistory
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hvaccrm.errors import IllegalTransition, ServiceError
from hvaccrm.geo import district_for_point
from hvaccrm.models import District, JobFeedback, ServiceJob, Site, Technician
from hvaccrm.models.jobs import TRANSITIONS, JobSource, JobStatus, Urgency
from hvaccrm.models.outbox import Target
from hvaccrm.realtime import events
from hvaccrm.realtime import groups as g
from hvaccrm.realtime.control import rights_changed
from hvaccrm.selectors import LEAK_CHECK, SERVICE, refrigerant_work_needed, technician_can_do
from hvaccrm.services.fgas import visit_close
from hvaccrm.services.outbox import record

URGENCY_PRIORITY = {Urgency.EMERGENCY: 100, Urgency.HIGH: 75, Urgency.NORMAL: 50}


def job_payload(job: ServiceJob) -> dict[str, Any]:
    """The data of a `job.updated` event and of the outbox rows that follow a job change."""
    return {
        "job": job.pk, "status": job.status, "client": job.client_id, "site": job.site_id,
        "service_type": job.service_type, "urgency": job.urgency, "priority": job.priority,
        "technician": job.technician_id,
        "district": job.district.slug if job.district_id else None,
        "latitude": job.latitude, "longitude": job.longitude,
        "scheduled_start": job.scheduled_start.isoformat() if job.scheduled_start else None,
        "scheduled_end": job.scheduled_end.isoformat() if job.scheduled_end else None,
        "eta": job.eta.isoformat() if job.eta else None,
    }


def job_history_context(*, actor=None, reason: str = "") -> AbstractContextManager:
    """Who and why for the job's history rows written inside (the triggers read this context)."""
    actor_id = actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None
    return pghistory.context(actor=actor_id, reason=reason[:255])


def job_window_check(*, start: datetime | None, end: datetime | None, field: str = "scheduled_end") -> None:
    """A window must end after it starts (forms call this before anything is saved)."""
    if start and end and end <= start:
        raise ServiceError(_("The window must end after it starts."), fields={field: [_("The window must end after it starts.")]})


def job_transition_check(*, current: str, to_status: str) -> None:
    """Raise IllegalTransition unless the status machine allows `current` -> `to_status`."""
    if to_status not in TRANSITIONS.get(current, ()):
        raise IllegalTransition(
            _("A job cannot move from %(a)s to %(b)s.") % {"a": current, "b": to_status},
            code="illegal_transition", fields={"status": [_("Not allowed from %(a)s.") % {"a": current}]},
        )


def job_assignable_check(*, status: str) -> None:
    if status not in (JobStatus.NEW, JobStatus.SCHEDULED):
        raise ServiceError(_("Only new or scheduled jobs can be assigned."), code="not_assignable",
                           fields={"technician": [_("Only new or scheduled jobs can be assigned.")]})


def job_movable_check(*, status: str) -> None:
    if status not in (JobStatus.NEW, JobStatus.SCHEDULED):
        raise ServiceError(_("Only new or scheduled jobs can be moved."), code="not_movable",
                           fields={"scheduled_start": [_("Only new or scheduled jobs can be moved.")]})


def _pin(job: ServiceJob, *, actor, pin: bool | None) -> list[str]:
    """Pin a job a person assigned or timed (the optimiser keeps it in place); the optimiser's own
    assignments (no actor) leave the pin as it was. Returns the fields it changed."""
    person = actor is not None and getattr(actor, "is_authenticated", False)
    if not (person if pin is None else pin):
        return []
    job.pinned_at = timezone.now()
    job.pinned_by = actor if person else None
    return ["pinned_at", "pinned_by"]


def _job_groups(job: ServiceJob) -> list[str]:
    groups = [g.client_group(job.client_id), g.dispatch_group()]
    if job.technician_id:
        groups.append(g.technician_group(job.technician_id))
    return groups


def _announce(job: ServiceJob, *, change: str, source: str, previous: str | None = None,
              previous_technician: int | None = None) -> None:
    """Record the outbox rows of a job change and push `job.updated` after commit."""
    payload = {**job_payload(job), "change": change, "previous_status": previous}
    if previous_technician is not None and previous_technician != job.technician_id:
        # The technician who lost the job: their route is re-planned and their board told too.
        payload["previous_technician"] = previous_technician
    record(source=source, target=Target.NOTIFICATIONS, kind="job.updated", obj=job, payload=payload)
    record(source=source, target=Target.MAP, kind="job.updated", obj=job, payload=payload)
    groups = _job_groups(job)
    if "previous_technician" in payload:
        groups.append(g.technician_group(previous_technician))
    events.emit(groups, "job.updated", row_id=job.pk, data=payload)


def _technician_loses_job(job: ServiceJob) -> None:
    """The job's technician (if any) is taken off it: their sockets drop its conversation's group."""
    if job.technician_id:
        user_id = Technician.objects.filter(pk=job.technician_id).values_list("user_id", flat=True).first()
        rights_changed(user_ids=[user_id] if user_id else [])


def job_create(
    *,
    site: Site,
    service_type: str,
    description: str = "",
    urgency: str = Urgency.NORMAL,
    source: str = JobSource.PHONE,
    equipment=None,
    requested_start: datetime | None = None,
    requested_end: datetime | None = None,
    estimated_duration_min: int = 60,
    actor=None,
    reason: str = "",
    is_synthetic: bool = False,
) -> ServiceJob:
    """Create a job at a site; location and district come from the site."""
    if equipment is not None and equipment.site_id != site.pk:
        raise ServiceError(_("This unit is not at the chosen site."), fields={"equipment": [_("Choose a unit at this site.")]})
    job_window_check(start=requested_start, end=requested_end, field="requested_end")
    with transaction.atomic(), job_history_context(actor=actor, reason=reason or f"created ({source})"):
        job = ServiceJob.objects.create(
            client_id=site.client_id, site=site, equipment=equipment, service_type=service_type,
            description=description, urgency=urgency, priority=URGENCY_PRIORITY.get(urgency, 50),
            source=source, requested_start=requested_start, requested_end=requested_end,
            estimated_duration_min=estimated_duration_min, latitude=site.latitude,
            longitude=site.longitude, district_id=site.district_id, status=JobStatus.NEW,
            status_changed_at=timezone.now(), is_synthetic=is_synthetic,
        )
        payload = {**job_payload(job), "change": "created", "source": source}
        if source == JobSource.PORTAL:
            record(source="portal", target=Target.PORTAL, kind="booking.created", obj=job, payload=payload)
            events.emit([g.dispatch_group()], "booking.created", row_id=job.pk, data=payload)
        record(source="core", target=Target.MAP, kind="job.created", obj=job, payload=payload)
        record(source="core", target=Target.NOTIFICATIONS, kind="job.created", obj=job, payload=payload)
    return job


def job_transition(*, job: ServiceJob, to_status: str, actor=None, reason: str = "",
                   technician: Technician | None = None, report: dict | None = None) -> ServiceJob:
    """The only way to change a job's status. An illegal move raises and changes nothing. `actor`
    and `reason` are kept in the job's history."""
    with transaction.atomic(), job_history_context(actor=actor, reason=reason or f"status: {to_status}"):
        job = ServiceJob.objects.select_for_update(of=("self",)).select_related("district").get(pk=job.pk)
        current = job.status
        job_transition_check(current=current, to_status=to_status)
        fields = ["status", "status_changed_at", "updated_at"]
        if to_status == JobStatus.SCHEDULED and current == JobStatus.NEW:
            technician = technician or job.technician
            if technician is None:
                raise ServiceError(_("Assign a technician to schedule the job."), fields={"technician": [_("Required.")]})
            job.technician = technician
            fields.append("technician")
        if to_status == JobStatus.NEW:  # unassigned again
            _technician_loses_job(job)
            job.technician = None
            job.eta = None
            job.scheduled_start = job.scheduled_end = None
            job.pinned_at, job.pinned_by = None, None
            fields += ["technician", "eta", "scheduled_start", "scheduled_end", "pinned_at", "pinned_by"]
        if to_status == JobStatus.COMPLETED:
            job.completed_at = timezone.now()
            job.eta = None
            fields += ["completed_at", "eta"]
            if report is not None:
                job.report = report
                fields.append("report")
        if to_status == JobStatus.CANCELLED:
            job.eta = None
            fields.append("eta")
        job.status = to_status
        job.status_changed_at = timezone.now()
        job.save(update_fields=fields)
        if to_status == JobStatus.COMPLETED:
            # Every completion path ends here: the register row and the unit's dates close the period.
            visit_close(job=job, report=job.report)
        _announce(job, change="status", source="core", previous=current)
        if to_status == JobStatus.COMPLETED:
            # A finished job teaches semantic search what was wrong and how it was resolved.
            record(source="core", target=Target.PROPHECY, kind="job.completed", obj=job, payload={
                "job": job.pk, "client": job.client_id, "text": job.description, "service_type": job.service_type,
                "district": job.district.slug if job.district_id else None,
                "created": job.completed_at.isoformat(), "equipment": str(job.equipment) if job.equipment_id else "",
                "resolution": str((job.report or {}).get("work_done", "")), "status": job.status,
            })
    return job


def job_certificate_check(*, job: ServiceJob, technician: Technician, on=None) -> None:
    """No refrigerant work without a valid F-gas certificate: raises with the reason."""
    if not refrigerant_work_needed(equipment=job.equipment):
        return
    work = LEAK_CHECK if job.service_type == "inspection" else SERVICE
    verdict = technician_can_do(technician=technician, equipment=job.equipment, work=work, on=on)
    if not verdict.ok:
        raise ServiceError(verdict.reason, code="certificate", fields={"technician": [verdict.reason]})


def job_assign(*, job: ServiceJob, technician: Technician, scheduled_start: datetime | None = None,
               scheduled_end: datetime | None = None, actor=None, reason: str = "",
               pin: bool | None = None, hold_slot: bool = False) -> ServiceJob:
    """Assign (and schedule) a job; a new job moves to scheduled. Refrigerant work needs a
    technician whose F-gas certificate covers it on the day. A person's assignment (an `actor`, or
    `pin=True`) pins the job; the optimiser passes no actor and pins nothing. `hold_slot` makes the
    scheduled window the technician's own (mapping's job_assign_slot; the database refuses an
    overlapping held slot); any other assignment releases it."""
    if scheduled_start and scheduled_end and scheduled_end <= scheduled_start:
        raise ServiceError(_("The window must end after it starts."), fields={"scheduled_end": [_("The window must end after it starts.")]})
    with transaction.atomic(), job_history_context(actor=actor, reason=reason or "assigned"):
        job = ServiceJob.objects.select_for_update(of=("self",)).select_related("equipment").get(pk=job.pk)
        day = timezone.localdate(scheduled_start or job.scheduled_start or job.requested_start or timezone.now())
        job_certificate_check(job=job, technician=technician, on=day)
        if not job.is_open or job.status in (JobStatus.EN_ROUTE, JobStatus.ON_SITE):
            raise ServiceError(_("Only new or scheduled jobs can be assigned."), code="not_assignable")
        if job.technician_id != technician.pk:
            _technician_loses_job(job)
        previous_technician = job.technician_id
        job.technician = technician
        job.scheduled_start = scheduled_start or job.scheduled_start
        job.scheduled_end = scheduled_end or job.scheduled_end
        job_window_check(start=job.scheduled_start, end=job.scheduled_end)
        # A time given with the assignment is a person's choice too (the optimiser never gives one).
        pinned = _pin(job, actor=actor, pin=True if pin is None and scheduled_start else pin)
        job.slot_held = hold_slot
        job.save(update_fields=["technician", "scheduled_start", "scheduled_end", "slot_held", "updated_at", *pinned])
        if job.status == JobStatus.NEW:
            return job_transition(job=job, to_status=JobStatus.SCHEDULED, actor=actor, reason=reason,
                                  technician=technician)
        _announce(job, change="assignment", source="core", previous_technician=previous_technician)
    return job


def job_reschedule(*, job: ServiceJob, scheduled_start: datetime, scheduled_end: datetime, actor=None,
                   reason: str = "", pin: bool | None = None) -> ServiceJob:
    """Move a new or scheduled job to another window; a person's move pins it (see job_assign)."""
    job_window_check(start=scheduled_start, end=scheduled_end)
    with transaction.atomic(), job_history_context(actor=actor, reason=reason or "rescheduled"):
        job = ServiceJob.objects.select_for_update().get(pk=job.pk)
        job_movable_check(status=job.status)
        job.scheduled_start, job.scheduled_end = scheduled_start, scheduled_end
        job.requested_start, job.requested_end = scheduled_start, scheduled_end
        pinned = _pin(job, actor=actor, pin=pin) if job.technician_id else []
        job.slot_held = False  # a new window is a window, not a slot on the technician's axis
        job.save(update_fields=["scheduled_start", "scheduled_end", "requested_start", "requested_end", "slot_held",
                                "updated_at", *pinned])
        _announce(job, change="rescheduled", source="core")
    return job


def job_eta_set(*, job: ServiceJob, eta: datetime | None) -> ServiceJob:
    """Mapping keeps the ETA current; the client and dispatch see it live."""
    with transaction.atomic():
        updated = ServiceJob.objects.filter(pk=job.pk).update(eta=eta, updated_at=timezone.now())
        if not updated:
            raise ServiceError(_("No such job."), code="not_found", status_code=404)
        job = ServiceJob.objects.select_related("district").get(pk=job.pk)
        events.emit(_job_groups(job), "job.updated", row_id=job.pk, data={**job_payload(job), "change": "eta"})
    return job


def job_location_set(*, job: ServiceJob, latitude: float | None = None, longitude: float | None = None,
                     district_slug: str | None = None, source: str = "core") -> ServiceJob:
    """Set where a job is (a message may say better than the site); district from the point."""
    with transaction.atomic():
        job = ServiceJob.objects.select_for_update().get(pk=job.pk)
        fields = ["updated_at"]
        if latitude is not None and longitude is not None:
            if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                raise ServiceError(_("Coordinates out of range."), fields={"latitude": [_("Out of range.")]})
            job.latitude, job.longitude = latitude, longitude
            fields += ["latitude", "longitude"]
            slug = district_for_point(latitude, longitude)
            district_slug = slug or district_slug
        if district_slug:
            district = District.objects.filter(slug=district_slug).first()
            if district is None:
                raise ServiceError(_("Unknown district."), fields={"district": [_("Unknown district.")]})
            job.district = district
            fields.append("district")
        job.save(update_fields=fields)
        job = ServiceJob.objects.select_related("district").get(pk=job.pk)
        events.emit(_job_groups(job), "job.updated", row_id=job.pk, data={**job_payload(job), "change": "location"})
    return job


def job_feedback_give(*, job: ServiceJob, rating: int, comment: str = "", actor=None) -> JobFeedback:
    """A client's feedback on a completed job; a low score is routed to managers by the outbox."""
    if job.status != JobStatus.COMPLETED:
        raise ServiceError(_("Feedback can be given on a finished visit only."), code="not_completed")
    if not 1 <= int(rating) <= 5:
        raise ServiceError(_("Choose a rating from 1 to 5."), fields={"rating": [_("Choose a rating from 1 to 5.")]})
    with transaction.atomic():
        duplicate = ServiceError(_("Feedback for this visit was already given."), code="duplicate")
        if JobFeedback.objects.filter(job=job).exists():
            raise duplicate
        try:
            # Two submissions at once both pass the check above; the unique job decides the winner.
            with transaction.atomic():
                fb = JobFeedback.objects.create(job=job, client_id=job.client_id, rating=rating, comment=comment)
        except IntegrityError:
            raise duplicate
        payload = {"feedback": fb.pk, "job": job.pk, "client": job.client_id, "rating": fb.rating,
                   "district": job.district.slug if job.district_id else None, "service_type": job.service_type}
        record(source="portal", target=Target.PORTAL, kind="feedback.created", obj=fb, payload=payload)
    return fb


JOB_DETAIL_FIELDS = ("service_type", "urgency", "description", "equipment", "requested_start", "requested_end",
                     "estimated_duration_min")


def job_details_set(*, job: ServiceJob, changes: dict[str, Any], actor=None, reason: str = "") -> ServiceJob:
    """Change what a job is about (not its status, technician or time: those have their own
    services). The client, the map and the boards hear of it as a `details` change."""
    unknown = set(changes) - set(JOB_DETAIL_FIELDS)
    if unknown:
        raise ServiceError(_("These fields are changed by other actions: %(f)s") % {"f": ", ".join(sorted(unknown))})
    with transaction.atomic(), job_history_context(actor=actor, reason=reason or "details changed"):
        job = ServiceJob.objects.select_for_update(of=("self",)).select_related("district").get(pk=job.pk)
        for name, value in changes.items():
            setattr(job, name, value)
        if "equipment" in changes and job.equipment is not None and job.equipment.site_id != job.site_id:
            raise ServiceError(_("This unit is not at the chosen site."), fields={"equipment": [_("Choose a unit at this site.")]})
        job_window_check(start=job.requested_start, end=job.requested_end, field="requested_end")
        if "urgency" in changes:
            job.priority = URGENCY_PRIORITY.get(job.urgency, job.priority)
            changes = {**changes, "priority": job.priority}
        if not changes:
            return job
        job.save(update_fields=[*changes, "updated_at"])
        _announce(job, change="details", source="core")
    return job
