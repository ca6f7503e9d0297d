"""The integration service: where one subsystem's event becomes another subsystem's work.

The outbox handlers (handlers.py) unpack a log row and call one function here; audit's repairs
and `integration_check` call the same functions, so there is one way in for every cross-system
write. The subsystems' public services are imported plainly, so ruff, import-linter and
go-to-definition follow every call; a call that raises leaves its row failed for the sweep.

Every function is keyword-only and idempotent for a given `dedupe_key` (the outbox is
at-least-once), and returns a small JSON-able dict that the outbox stores as the row's details
when its audit level is "detailed".
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from communications import services as comms
from communications.models import Message
from hvaccrm.models import IntegrationLog, JobFeedback, ServiceJob
from hvaccrm.models.jobs import Urgency
from hvaccrm.models.outbox import Target
from hvaccrm.realtime import events
from hvaccrm.realtime import groups as g
from hvaccrm.services.outbox import outbox_process, outbox_retry, record
from integration import mail
from integration.payloads import HotspotAlert, JobChange
from mapping import conf as mapping_conf
from mapping import services as mapping
from prophecy import services as prophecy

logger = logging.getLogger(__name__)

MESSAGE_TYPE = "communications.message"
JOB_TYPE = "hvaccrm.servicejob"
FEEDBACK_TYPE = "hvaccrm.jobfeedback"
AUDIT_LEVELS = ("basic", "detailed")
LOW_RATING = 2
# Job changes after which the day's routes may be different (an ETA or location push is not one).
REPLAN_CHANGES = {"created", "status", "assignment", "rescheduled"}
State = IntegrationLog.State
User = get_user_model()


# --- message -> map, prophecy and notifications ----------------------------------------------


# The keys of message_payloads' answer, per (target, kind) of a message's rows.
MESSAGE_ROWS = {(Target.PROPHECY, "message.created"): "prophecy", (Target.MAP, "message.created"): "map",
                (Target.NOTIFICATIONS, "emergency.alert"): "notifications"}


def message_payloads(*, message_id: int) -> dict[str, dict[str, Any]]:
    """The outbox payloads of a message by target ("prophecy", "map", "notifications"): the
    recorded row's where there is one, else what communications records for the saved message
    (a lost write, a message imported around the service). A target the message does not need
    (no map row for a message without place or urgency) is absent.
    """
    known = {
        MESSAGE_ROWS[(row.target, row.kind)]: row.payload
        for row in IntegrationLog.objects.filter(object_type=MESSAGE_TYPE, object_id=str(message_id)).order_by("id")
        if (row.target, row.kind) in MESSAGE_ROWS
    }
    if len(known) == len(MESSAGE_ROWS):
        return known
    message = Message.objects.select_related("conversation", "district").filter(pk=message_id).first()
    if message is None:
        raise LookupError(f"message {message_id} does not exist")
    owed = {MESSAGE_ROWS[key]: payload for key, payload in comms.message_outbox_payloads(message).items()}
    return {**owed, **known}


def _owed_row_run(*, target: str, kind: str, object_type: str, object_id: str, payload: dict,
                  audit_level: str, source: str = "integration") -> str:
    """Run (or create and run) the owed row of one object for one target; returns its state."""
    row = (IntegrationLog.objects.filter(target=target, kind=kind, object_type=object_type, object_id=object_id)
           .order_by("-id").first())
    if row is not None and row.state == State.SUCCEEDED:
        return State.SUCCEEDED
    if row is None:
        with transaction.atomic():
            row = record(source=source, target=target, kind=kind, object_type=object_type, object_id=object_id,
                         payload=payload, audit_level=audit_level)
    elif row.state == State.DEAD:
        row = outbox_retry(log_id=row.pk)
    return outbox_process(log_id=row.pk)


def sync_communication_data(*, message_id: int, include_map_update: bool = True, include_prophecy_sync: bool = True,
                            include_emergency_alert: bool = True, audit_level: str = "basic") -> dict[str, Any]:
    """Bring one message up to date everywhere it should be: vector store, map, emergency alert.

    Work already done is left alone (a succeeded row is not run again); work owed is run now, and
    a message that never got its outbox rows gets them. Returns each target's state.
    """
    if audit_level not in AUDIT_LEVELS:
        raise ValueError(f"audit_level must be one of {AUDIT_LEVELS}")
    payloads = message_payloads(message_id=message_id)
    result: dict[str, Any] = {"message": message_id}
    plan = [
        (include_prophecy_sync, Target.PROPHECY, "message.created", "prophecy"),
        (include_map_update, Target.MAP, "message.created", "map"),
        (include_emergency_alert, Target.NOTIFICATIONS, "emergency.alert", "notifications"),
    ]
    for wanted, target, kind, key in plan:
        if not wanted:
            continue
        if key not in payloads:
            result[key] = "not_needed"
            continue
        result[key] = _owed_row_run(target=target, kind=kind, object_type=MESSAGE_TYPE, object_id=str(message_id),
                                    payload=payloads[key], audit_level=audit_level)
    return result


def update_map_system(*, dedupe_key: str, message_id: int | None = None, job_id: int | None = None,
                      latitude: float | None = None, longitude: float | None = None,
                      district_slug: str | None = None, urgency: str = Urgency.NORMAL) -> dict[str, Any]:
    """A located or urgent message (or a repair) moves the job and the map markers.

    mapping's `job_locate` sets the job's location and district (through the core) and pushes the
    marker to dispatch. A high-urgency message also tells the district's technicians; an emergency
    is not told here because its own `emergency.alert` row routes it nearest first, with escalation.
    """
    if job_id is not None and not ServiceJob.objects.filter(pk=job_id).exists():
        job_id = None  # the job was deleted since: still show the message on the map
    if job_id is None and message_id is None:
        return {"located": False, "reason": "nothing to locate"}
    located = mapping.job_locate(job_id=job_id, latitude=latitude, longitude=longitude, district_slug=district_slug,
                         message_id=message_id, dedupe_key=dedupe_key)
    result: dict[str, Any] = {"located": located}
    if urgency == Urgency.HIGH and district_slug:
        result["notified"] = comms.notify_district_technicians(district_slug=district_slug, spec=comms.NotificationSpec(
            kind="message.urgent",
            title=_("Urgent request in your district"),
            body=_("A client in your district sent an urgent message; see the dispatch map."),
            payload={"message": message_id, "job": job_id, "district": district_slug}, priority="high",
            related_type=MESSAGE_TYPE if message_id else JOB_TYPE, related_id=str(message_id or job_id),
            dedupe_key=dedupe_key,
        ))
    return result


def sync_prophecy_data(*, object_type: str, object_id: str | int, text: str, district: str | None = None,
                       service_type: str | None = None, created: str | None = None, client_id: int | None = None,
                       extra: dict | None = None) -> dict[str, Any]:
    """Store one object's text for the vector store (features, privacy filter, embedding, upsert).

    prophecy's `sync_object` is deterministic by object: a second call for the same text is a no-op.
    """
    return prophecy.sync_object(object_type=object_type, object_id=str(object_id), text=text or "", district=district,
                       service_type=service_type, created=created or timezone.now().isoformat(),
                       client_id=client_id, extra=extra or {})


def emergency_dispatch_run(*, message_id: int | None, job_id: int | None, district_slug: str | None, text: str,
                           dedupe_key: str) -> dict[str, Any]:
    """An emergency goes to the district's on-shift technicians nearest first (communications)."""
    return comms.emergency_dispatch(message_id=message_id, job_id=job_id, district_slug=district_slug, text=text or "",
                    dedupe_key=dedupe_key)


# --- portal -> systems -----------------------------------------------------------------------


def _job_notify_technicians(*, job: ServiceJob, kind: str, title: str, body: str, dedupe_key: str) -> list[int]:
    """The assigned technician if there is one, else every technician of the job's district."""
    payload = {"job": job.pk, "district": job.district.slug if job.district_id else None,
               "service_type": job.service_type, "urgency": job.urgency}
    spec = comms.NotificationSpec(kind=kind, title=title, body=body, payload=payload, related_type=JOB_TYPE,
                                  related_id=str(job.pk), dedupe_key=dedupe_key,
                                  priority="high" if job.urgency != Urgency.NORMAL else "normal")
    if job.technician_id:
        return list(comms.notify(user_ids=[job.technician.user_id], spec=spec))
    if job.district_id:
        return list(comms.notify_district_technicians(district_slug=job.district.slug, spec=spec))
    return []


def sync_client_portal_activity(*, kind: str, dedupe_key: str, job_id: int | None = None,
                                feedback_id: int | None = None) -> dict[str, Any]:
    """A booking or feedback from the portal: prophecy stores the pattern, people are told.

    booking.created: the job's text goes to the vector store and the assigned technician (or the
    district's technicians) is notified; the map and routing follow from the job's own map row.
    feedback.created: the feedback goes to the vector store; a score of 2 or less goes to managers.
    """
    if kind == "booking.created":
        job = ServiceJob.objects.select_related("district", "technician").filter(pk=job_id).first()
        if job is None:
            return {"skipped": "job deleted"}
        stored = sync_prophecy_data(
            object_type=JOB_TYPE, object_id=job.pk, text=job.description,
            district=job.district.slug if job.district_id else None, service_type=job.service_type,
            created=job.created_at.isoformat(), client_id=job.client_id,
            extra={"urgency": job.urgency, "source": job.source},
        )
        notified = _job_notify_technicians(
            job=job, kind="booking.created", title=_("New booking"),
            body=_("A client booked a %(service)s visit.") % {"service": job.get_service_type_display()},
            dedupe_key=dedupe_key,
        )
        return {"prophecy": _small(stored), "notified": notified}
    if kind == "feedback.created":
        fb = JobFeedback.objects.select_related("job__district").filter(pk=feedback_id).first()
        if fb is None:
            return {"skipped": "feedback deleted"}
        job = fb.job
        stored = sync_prophecy_data(
            object_type=FEEDBACK_TYPE, object_id=fb.pk, text=fb.comment or "",
            district=job.district.slug if job.district_id else None, service_type=job.service_type,
            created=fb.created_at.isoformat(), client_id=fb.client_id, extra={"rating": fb.rating, "job": job.pk},
        )
        result: dict[str, Any] = {"prophecy": _small(stored), "low_score": fb.rating <= LOW_RATING}
        if fb.rating <= LOW_RATING:
            result["notified"] = list(comms.notify_role(role="manager", spec=comms.NotificationSpec(
                kind="feedback.low", priority="high",
                title=_("Low rating: %(n)s/5") % {"n": fb.rating},
                body=_("A client rated visit #%(job)s %(n)s/5.") % {"job": job.pk, "n": fb.rating},
                payload={"feedback": fb.pk, "job": job.pk, "rating": fb.rating},
                related_type=FEEDBACK_TYPE, related_id=str(fb.pk), dedupe_key=dedupe_key,
            )))
        return result
    raise ValueError(f"unknown portal activity {kind!r}")


def booking_confirmation_send(*, job_id: int, user_id: int) -> dict[str, Any]:
    """E-mail the user who booked in the portal the confirmation of their booking, in their
    client's language. A mail server that refuses raises: the row stays failed and the sweep sends
    it again; nothing else of the booking (its emergency alert above all) waits for it."""
    job = ServiceJob.objects.select_related("site", "client").filter(pk=job_id).first()
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if job is None or user is None or not user.email:
        return {"sent": False, "reason": "no job, user or address"}
    url = settings.SITE_URL.rstrip("/") + reverse("portal:visit", args=[job.pk])
    with translation.override(job.client.preferred_language or settings.LANGUAGE_CODE):
        # The portal's template, found by name (the portal is imported by nobody).
        body = render_to_string("portal/email/booking_confirmed.txt", {
            "job": job, "booking": getattr(job, "portal_booking", None), "url": url, "user": user,
            "site_url": settings.SITE_URL})
        subject = _("Your booking no. %(id)s") % {"id": job.pk}
    send_mail(str(subject), body, None, [user.email])
    return {"sent": True}


def emergency_booking_payload(job: ServiceJob) -> dict[str, Any]:
    """The emergency.alert payload of an emergency booking (recorded with it; rebuilt by the repair)."""
    return {"message": None, "job": job.pk, "district": job.district.slug if job.district_id else None,
            "text": job.description, "urgency": Urgency.EMERGENCY, "service_types": [job.service_type]}


def emergency_booking_ensure(*, job_id: int, dedupe_key: str) -> dict[str, Any]:
    """An emergency booking that reached nobody (audit's repair). Its alert row still owed (failed,
    dead, lost) is run, so it is never dispatched twice; a row that ran but reached nobody is
    dispatched again under the repair's key (idempotent for that key)."""
    job = ServiceJob.objects.select_related("district").filter(pk=job_id).first()
    if job is None:
        return {"dispatched": False, "reason": "job deleted"}
    rows = IntegrationLog.objects.filter(target=Target.NOTIFICATIONS, kind="emergency.alert", object_type=JOB_TYPE,
                                         object_id=str(job_id))
    owed = rows.exclude(state=State.SUCCEEDED).order_by("-id").first()
    if owed is not None or not rows.exists():
        payload = owed.payload if owed is not None else emergency_booking_payload(job)
        state = _owed_row_run(target=Target.NOTIFICATIONS, kind="emergency.alert", object_type=JOB_TYPE,
                              object_id=str(job_id), payload=payload, audit_level="basic")
        return {"dispatched": state == State.SUCCEEDED, "row_state": state}
    return emergency_dispatch_run(message_id=None, job_id=job.pk, district_slug=job.district.slug if job.district_id
                                  else None, text=job.description, dedupe_key=dedupe_key)


# --- jobs -> client notifications and the map --------------------------------------------------


def job_update_notify_run(*, job_id: int, change: str, previous_status: str | None, dedupe_key: str,
                          status: str | None = None, technician: int | None = None,
                          previous_technician: int | None = None) -> dict[str, Any]:
    """The client hears about their job (booking confirmed, on the way with ETA, completed, a new
    technician); `status` is the row's (the one its change moved the job to), not the job's current
    one. `technician`/`previous_technician`: the row's reassignment."""
    current = ServiceJob.objects.filter(pk=job_id).values("technician_id").first()
    if current is None:
        return {"skipped": "job deleted"}
    if technician is not None and current["technician_id"] != technician:
        # Reassigned again since this row: the later row names the technician who comes, once.
        previous_technician = None
    ids = comms.job_update_notify(job_id=job_id, change=change or "", previous_status=previous_status,
                                  dedupe_key=dedupe_key, status=status, previous_technician=previous_technician)
    # A client with no portal user to notify hears a new date or window by e-mail (its own row).
    owed = mail.job_time_change_email_owe(job_id=job_id, change=change or "")
    return {"notified": list(ids or []), **({"time_change_email": owed.pk} if owed else {})}


def _local_day(value: str | None) -> date | None:
    moment = parse_datetime(value) if value else None
    if moment is None:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return timezone.localtime(moment).date()


def job_day(*, job_id: int, payload: JobChange | None = None) -> date | None:
    """The local day a job is planned for: its scheduled start, else the client's requested one."""
    day = _local_day(payload.get("scheduled_start")) if payload else None
    if day is not None:
        return day
    job = ServiceJob.objects.filter(pk=job_id).values("scheduled_start", "requested_start").first()
    if job is None:
        return None
    moment = job["scheduled_start"] or job["requested_start"]
    return timezone.localtime(moment).date() if moment else None


def job_replan_if_needed(*, job_id: int, change: str, day: date | None) -> dict[str, Any]:
    """Re-plan the routes of the job's day when it was created, moved or (re)assigned and that day
    is within the plan's horizon (mapping PLAN_HORIZON_DAYS); later days join the nightly plan when
    they come within it."""
    today = timezone.localdate()
    if day is None or not today <= day < today + timedelta(days=mapping_conf.PLAN_HORIZON_DAYS):
        return {"replanned": False, "reason": "outside the plan's horizon"}
    if change not in REPLAN_CHANGES:
        return {"replanned": False, "reason": f"change {change!r} does not move routes"}
    result = mapping.day_replan(day=day, reason=f"job {job_id}: {change}", job_id=job_id)
    return {"replanned": True, "day": day.isoformat(), "result": _small(result)}


# --- prophecy -> notifications ---------------------------------------------------------------


def prophecy_alert_dispatch(*, prediction_id: int | None, payload: HotspotAlert, dedupe_key: str) -> dict[str, Any]:
    """A hotspot: managers get a notification and the managers' and dispatch dashboards a push."""
    district = payload["district"] or payload["district_slug"]
    data = {
        "prediction": prediction_id, "district": district, "district_slug": payload["district_slug"],
        "predictedDemand": payload["predictedDemand"], "confidence": payload["confidence"],
        "serviceTypes": payload["serviceTypes"], "week_start": payload["week_start"],
        # Where the alert leads (the district's chart, its jobs): the pages show them as links.
        **{k: payload[k] for k in ("chart_url", "jobs_url") if payload.get(k)},
    }
    ids = comms.notify_role(role="manager", spec=comms.NotificationSpec(
        kind="prophecy.alert", priority="high",
        title=_("Expected demand peak: %(district)s") % {"district": district},
        body=_("Predicted demand %(demand)s (confidence %(conf)s) for the week of %(week)s.") % {
            "demand": data["predictedDemand"], "conf": data["confidence"], "week": data["week_start"]},
        payload=data, related_type="prophecy.prediction", related_id=str(prediction_id), dedupe_key=dedupe_key,
    ))
    # After commit (the outbox commits the row's state with it): a rolled-back run pushes nothing.
    events.emit([g.managers_group(), g.dispatch_group()], "prophecy.alert", row_id=prediction_id or 0, data=data)
    return {"notified": list(ids or [])}


# --- delivery of notifications through outside channels ----------------------------------------


def delivery_run(*, delivery_id: int) -> dict[str, Any]:
    """Send one delivery (SMS, e-mail, Telegram...) once; communications' DeliveryFailed, with the
    channel's error, when the channel did not take it (the handler reports it to the outbox)."""
    state = comms.delivery_attempt_or_raise(delivery_id=delivery_id)
    return {"delivery": delivery_id, "state": str(state)}


def message_relay_run(*, message_id: int, channel: str) -> dict[str, Any]:
    """Send an office reply to the client's SMS, Telegram or e-mail; communications' DeliveryFailed
    when the gateway refused it (the handler reports it to the outbox, which retries)."""
    return comms.message_relay(message_id=message_id, channel=channel)


def inbound_emergency_run(*, thread_id: int, channel: str, text: str, language: str, safety: bool, reply: bool,
                          dedupe_key: str) -> dict[str, Any]:
    """An unknown sender's emergency: the dispatchers at once, the gas-safety instruction back on
    the sender's channel; communications' DeliveryFailed when that gateway refused (retried)."""
    return comms.inbound_emergency_alert(thread_id=thread_id, channel=channel, text=text, language=language,
                                         safety=safety, reply=reply, dedupe_key=dedupe_key)


# --- health alerts and repairs (called by audit) ------------------------------------------------


def health_alert_send(*, integration: str, label: str, state: str, previous: str, detail: str,
                      dedupe_key: str) -> list[int]:
    """Tell administrators that an integration changed state (called once per change by audit)."""
    priority = "high" if state == "red" else "normal"
    return list(comms.notify_role(role="administrator", spec=comms.NotificationSpec(
        kind="integration.health", priority=priority,
        title=_("Integration %(name)s: %(state)s") % {"name": label, "state": state},
        body=_("%(name)s changed from %(old)s to %(new)s. %(detail)s") % {
            "name": label, "old": previous, "new": state, "detail": detail},
        payload={"integration": integration, "state": state, "previous": previous},
        related_type="audit.integration", related_id=integration, dedupe_key=dedupe_key,
    )))


def _vector_sync_forget(*, object_type: str, object_id: str) -> None:
    """Make prophecy's next `sync_object` of this object really write it: `sync_object` skips an
    object whose text it already synced, which is right for retries but wrong when the store itself
    lost the vector."""
    prophecy.sync_state_forget(object_type=object_type, object_id=object_id)


def vector_sync_requeue(*, log_id: int) -> dict[str, Any]:
    """A row says synced but the vector store lacks the object: owe it again and run it."""
    old = IntegrationLog.objects.get(pk=log_id)
    _vector_sync_forget(object_type=old.object_type, object_id=old.object_id)
    with transaction.atomic():
        row = record(source="audit", target=old.target, kind=old.kind, object_type=old.object_type,
                     object_id=old.object_id, payload=old.payload, audit_level=old.audit_level)
    return {"log": row.pk, "state": outbox_process(log_id=row.pk)}


def emergency_notification_ensure(*, message_id: int, dedupe_key: str) -> dict[str, Any]:
    """An emergency that reached nobody. Work still owed (a failed or dead alert row) is run, so it
    is never dispatched twice; an alert that ran but whose notifications are gone is dispatched
    again under the repair's own key (idempotent for that key)."""
    payload = message_payloads(message_id=message_id).get("notifications")
    if payload is None:
        return {"dispatched": False, "reason": "not an emergency"}
    owed = (IntegrationLog.objects.filter(target=Target.NOTIFICATIONS, kind="emergency.alert", object_type=MESSAGE_TYPE,
                                          object_id=str(message_id))
            .exclude(state=State.SUCCEEDED).order_by("-id").first())
    if owed is not None or not IntegrationLog.objects.filter(
            target=Target.NOTIFICATIONS, kind="emergency.alert", object_type=MESSAGE_TYPE, object_id=str(message_id)).exists():
        state = _owed_row_run(target=Target.NOTIFICATIONS, kind="emergency.alert", object_type=MESSAGE_TYPE,
                              object_id=str(message_id), payload=payload, audit_level="basic")
        return {"dispatched": state == State.SUCCEEDED, "row_state": state}
    return emergency_dispatch_run(message_id=message_id, job_id=payload.get("job"),
                                  district_slug=payload.get("district"), text=payload.get("text", ""),
                                  dedupe_key=dedupe_key)


def job_location_repair(*, job_id: int, dedupe_key: str) -> dict[str, Any]:
    """A job with no location or district gets its site's, through mapping's `job_locate`."""
    job = ServiceJob.objects.select_related("site__district").filter(pk=job_id).first()
    if job is None:
        return {"located": False, "reason": "job deleted"}
    site = job.site
    if site.latitude is None and not site.district_id:
        return {"located": False, "reason": "the site has no location either"}
    return update_map_system(dedupe_key=dedupe_key, job_id=job.pk, latitude=site.latitude, longitude=site.longitude,
                             district_slug=site.district.slug if site.district_id else None)


def integration_logs_remove(*, log_ids: list[int]) -> int:
    """Orphaned rows (their object was deleted) are removed; they can never be delivered."""
    deleted, _ = IntegrationLog.objects.filter(pk__in=log_ids).delete()
    return deleted


def _small(value: Any, limit: int = 20) -> Any:
    """Keep details small: lists are cut, nested dicts kept one level deep."""
    if isinstance(value, dict):
        return {k: (v[:limit] if isinstance(v, list) else v) for k, v in list(value.items())[:limit]
                if isinstance(v, str | int | float | bool | list | type(None))}
    return value


def visit_moved_notify_run(*, job_id: int, day: str, previous_day: str) -> dict[str, Any]:
    """The office is told of a client's move (idempotent: the notice's key is the visit and its day)."""
    return {"notified": comms.visit_moved_notify(job_id=job_id, day=day, previous_day=previous_day)}
