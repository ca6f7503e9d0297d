"""The answers to an emergency alert: the first accept takes the job, a decline (with a reason) of
the last one waiting in a step starts the next step at once. A service, called by the API and by
the socket frames alike."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communications import conf
from communications.models import AlertDecision, AlertResponse, EmergencyAlert
from communications.services.alerts import ALERT_WAITING, alert_chain, alert_data
from communications.services.common import _technician_of
from communications.services.emergencies import _alert_advance_locked, _alert_announce
from hvaccrm.errors import ServiceError
from hvaccrm.geo import haversine_m
from hvaccrm.models import ServiceJob, Site, Technician
from hvaccrm.models.jobs import JobSource, JobStatus, ServiceType, Urgency
from hvaccrm.realtime import events
from hvaccrm.realtime import groups as g
from hvaccrm.services import job_assign, job_create, job_eta_set, job_transition

MAX_REASON = 500


def _not_alerted() -> ServiceError:
    return ServiceError(_("You were not alerted to this emergency."), code="not_alerted", status_code=403)


def _taken(alert: EmergencyAlert) -> ServiceError:
    who = alert.accepted_by.get_full_name() or alert.accepted_by.get_username() if alert.accepted_by else "?"
    return ServiceError(_("This emergency was already taken by %(who)s.") % {"who": who}, code="already_taken",
                        status_code=409)


def _alert_and_response(*, alert_id: int, user) -> tuple[EmergencyAlert, AlertResponse]:
    """The alert, locked (two answers at once queue here, one after the other), and the user's
    place in its chain; someone not alerted gets the same answer whether the alert exists or not."""
    alert = (
        EmergencyAlert.objects.select_for_update(of=("self",))
        .select_related("district", "message__conversation", "job", "accepted_by")
        .filter(pk=alert_id)
        .first()
    )
    response = AlertResponse.objects.filter(alert_id=alert_id, user_id=user.pk).first() if alert else None
    if alert is None or response is None:
        raise _not_alerted()
    return alert, response


def alert_accept(*, alert_id: int, user, now=None) -> EmergencyAlert:
    """Take the emergency: the first accept wins (row lock and a conditional update; a second one
    gets "already taken" and changes nothing). A technician gets the job assigned (a message with no
    job gets one) and en route with an ETA the client is told; office staff take it over."""
    now = now or timezone.now()
    with transaction.atomic():
        alert, response = _alert_and_response(alert_id=alert_id, user=user)
        if alert.state == EmergencyAlert.State.ACCEPTED:
            raise _taken(alert)
        took = EmergencyAlert.objects.filter(pk=alert.pk, accepted_by__isnull=True).exclude(
            state=EmergencyAlert.State.ACCEPTED).update(state=EmergencyAlert.State.ACCEPTED, accepted_by=user,
                                                        accepted_at=now)
        if not took:  # cannot happen under the lock; kept so the rule holds without it too
            raise _taken(alert)
        alert.state, alert.accepted_by, alert.accepted_at = EmergencyAlert.State.ACCEPTED, user, now
        response.state, response.responded_at = AlertResponse.State.ACCEPTED, now
        response.save(update_fields=["state", "responded_at"])
        others = list(AlertResponse.objects.filter(alert=alert, state=AlertResponse.State.ALERTED)
                      .exclude(pk=response.pk).values_list("technician_id", flat=True))
        AlertResponse.objects.filter(alert=alert, state=AlertResponse.State.ALERTED).exclude(pk=response.pk).update(
            state=AlertResponse.State.TAKEN)
        tech = _technician_of(user)
        job = alert.job or _alert_job_create(alert, actor=user)
        if job is not None and alert.job_id is None:
            alert.job = job
            EmergencyAlert.objects.filter(pk=alert.pk).update(job=job)
        eta = _job_en_route(job, technician=tech, response=response, actor=user, now=now) if job and tech else None
        AlertDecision.objects.create(alert=alert, step=AlertDecision.Step.ACCEPTED, user=user, technician=tech,
                                     reason=f"accepted at step {response.step + 1}")
        data = alert_data(alert, chain=alert_chain(alert), accepted_by=user.pk,
                          eta=eta.isoformat() if eta else None)
        _alert_announce(alert, accepted_by=user.pk, eta=data["eta"])
        # The others' screens drop the alert: it is taken.
        groups = [g.technician_group(t) for t in others if t]
        if groups:
            events.emit(groups, "emergency.alert", row_id=alert.pk, data=alert_data(alert, taken=True))
    return alert


def _alert_job_create(alert: EmergencyAlert, *, actor) -> ServiceJob | None:
    """The job of an emergency message that had none: at the client's site in the alert's
    district (else their first site). A client with no site gets no job: the office makes one."""
    if alert.message_id is None:
        return None
    conversation = alert.message.conversation
    sites = Site.objects.filter(client_id=conversation.client_id).order_by("id")
    site = (sites.filter(district_id=alert.district_id).first() if alert.district_id else None) or sites.first()
    if site is None:
        return None
    kinds = [k for k in (alert.message.service_types or []) if k in ServiceType.values]
    job = job_create(site=site, service_type=kinds[0] if kinds else ServiceType.REPAIR, description=alert.text,
                     urgency=Urgency.EMERGENCY, source=JobSource.MESSAGE, actor=actor)
    if conversation.job_id is None:
        type(conversation).objects.filter(pk=conversation.pk, job__isnull=True).update(job=job)
    return job


def _eta(job: ServiceJob, *, technician: Technician, response: AlertResponse, now):
    km = response.distance_km
    if km is None and technician.last_latitude is not None and job.latitude is not None:
        km = haversine_m(technician.last_latitude, technician.last_longitude, job.latitude, job.longitude) / 1000
    if km is None:
        return now + timedelta(minutes=conf.ETA_UNKNOWN_MINUTES)
    return now + timedelta(minutes=max(conf.ETA_MIN_MINUTES, round(km / conf.ETA_SPEED_KMH * 60)))


def _job_en_route(job: ServiceJob, *, technician: Technician, response: AlertResponse, actor, now):
    """Assign the job to the technician who accepted and put it en route with an ETA (the job's
    status change tells the client, with the ETA). A job already on its way is left as it is."""
    if job.status not in (JobStatus.NEW, JobStatus.SCHEDULED):
        return job.eta
    if job.technician_id != technician.pk or job.status == JobStatus.NEW:
        job = job_assign(job=job, technician=technician, scheduled_start=now, actor=actor)
    eta = _eta(job, technician=technician, response=response, now=now)
    job = job_eta_set(job=job, eta=eta)
    job_transition(job=job, to_status=JobStatus.EN_ROUTE, actor=actor, reason="emergency accepted")
    return eta


def alert_decline(*, alert_id: int, user, reason: str, now=None) -> AlertResponse:
    """Decline an alert, saying why. When nobody of the current step is left waiting, the next
    step starts at once (no waiting for the timeout). Declining twice changes nothing."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Say why you decline."), code="reason_required",
                           fields={"reason": [_("A reason is required to decline an emergency.")]})
    if len(reason) > MAX_REASON:
        raise ServiceError(_("The reason is too long."), fields={"reason": [_("At most 500 characters.")]})
    now = now or timezone.now()
    with transaction.atomic():
        alert, response = _alert_and_response(alert_id=alert_id, user=user)
        if alert.state == EmergencyAlert.State.ACCEPTED:
            raise _taken(alert)
        if response.state == AlertResponse.State.DECLINED:
            return response
        response.state, response.reason, response.responded_at = AlertResponse.State.DECLINED, reason, now
        response.save(update_fields=["state", "reason", "responded_at"])
        waiting = AlertResponse.objects.filter(alert=alert, step=alert.step, state=AlertResponse.State.ALERTED)
        if alert.state in ALERT_WAITING and response.step == alert.step and not waiting.exists():
            _alert_advance_locked(alert, reason=_("all of the step declined"))
        else:
            _alert_announce(alert)
    return response
