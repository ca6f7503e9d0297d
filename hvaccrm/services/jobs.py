"""Service jobs: creation, assignment, the status machine, ETA and location, feedback."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
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
from hvaccrm.services.maintenance import visit_close
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


def _job_groups(job: ServiceJob) -> list[str]:
    groups = [g.client_group(job.client_id), g.dispatch_group()]
    if job.technician_id:
        groups.append(g.technician_group(job.technician_id))
    return groups


def _announce(job: ServiceJob, *, change: str, source: str, previous: str | None = None) -> None:
    """Record the outbox rows of a job change and push `job.updated` after commit."""
    payload = {**job_payload(job), "change": change, "previous_status": previous}
    record(source=source, target=Target.NOTIFICATIONS, kind="job.updated", obj=job, payload=payload)
    record(source=source, target=Target.MAP, kind="job.updated", obj=job, payload=payload)
    events.emit(_job_groups(job), "job.updated", row_id=job.pk, data=payload)


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
    is_synthetic: bool = False,
) -> ServiceJob:
    """Create a job at a site; location and district come from the site."""
    if equipment is not None and equipment.site_id != site.pk:
        raise ServiceError(_("This unit is not at the chosen site."), fields={"equipment": [_("Choose a unit at this site.")]})
    if requested_start and requested_end and requested_end <= requested_start:
        raise ServiceError(_("The window must end after it starts."), fields={"requested_end": [_("The window must end after it starts.")]})
    with transaction.atomic():
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
    """The only way to change a job's status. An illegal move raises and changes nothing."""
    with transaction.atomic():
        job = ServiceJob.objects.select_for_update(of=("self",)).select_related("district").get(pk=job.pk)
        current = job.status
        if to_status not in TRANSITIONS.get(current, ()):
            raise IllegalTransition(
                _("A job cannot move from %(a)s to %(b)s.") % {"a": current, "b": to_status},
                code="illegal_transition", fields={"status": [_("Not allowed from %(a)s.") % {"a": current}]},
            )
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
            fields += ["technician", "eta", "scheduled_start", "scheduled_end"]
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
               scheduled_end: datetime | None = None, actor=None) -> ServiceJob:
    """Assign (and schedule) a job; a new job moves to scheduled. Refrigerant work needs a
    technician whose F-gas certificate covers it on the day."""
    if scheduled_start and scheduled_end and scheduled_end <= scheduled_start:
        raise ServiceError(_("The window must end after it starts."), fields={"scheduled_end": [_("The window must end after it starts.")]})
    with transaction.atomic():
        job = ServiceJob.objects.select_for_update(of=("self",)).select_related("equipment").get(pk=job.pk)
        day = timezone.localdate(scheduled_start or job.scheduled_start or job.requested_start or timezone.now())
        job_certificate_check(job=job, technician=technician, on=day)
        if not job.is_open or job.status in (JobStatus.EN_ROUTE, JobStatus.ON_SITE):
            raise ServiceError(_("Only new or scheduled jobs can be assigned."), code="not_assignable")
        if job.technician_id != technician.pk:
            _technician_loses_job(job)
        job.technician = technician
        job.scheduled_start = scheduled_start or job.scheduled_start
        job.scheduled_end = scheduled_end or job.scheduled_end
        job.save(update_fields=["technician", "scheduled_start", "scheduled_end", "updated_at"])
        if job.status == JobStatus.NEW:
            return job_transition(job=job, to_status=JobStatus.SCHEDULED, actor=actor, technician=technician)
        _announce(job, change="assignment", source="core")
    return job


def job_reschedule(*, job: ServiceJob, scheduled_start: datetime, scheduled_end: datetime, actor=None) -> ServiceJob:
    if scheduled_end <= scheduled_start:
        raise ServiceError(_("The window must end after it starts."), fields={"scheduled_end": [_("The window must end after it starts.")]})
    with transaction.atomic():
        job = ServiceJob.objects.select_for_update().get(pk=job.pk)
        if job.status not in (JobStatus.NEW, JobStatus.SCHEDULED):
            raise ServiceError(_("Only new or scheduled jobs can be moved."), code="not_movable")
        job.scheduled_start, job.scheduled_end = scheduled_start, scheduled_end
        job.requested_start, job.requested_end = scheduled_start, scheduled_end
        job.save(update_fields=["scheduled_start", "scheduled_end", "requested_start", "requested_end", "updated_at"])
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
        if JobFeedback.objects.filter(job=job).exists():
            raise ServiceError(_("Feedback for this visit was already given."), code="duplicate")
        fb = JobFeedback.objects.create(job=job, client_id=job.client_id, rating=rating, comment=comment)
        payload = {"feedback": fb.pk, "job": job.pk, "client": job.client_id, "rating": fb.rating,
                   "district": job.district.slug if job.district_id else None, "service_type": job.service_type}
        record(source="portal", target=Target.PORTAL, kind="feedback.created", obj=fb, payload=payload)
    return fb
