"""Emergency routing: nearest on-shift technicians of the district, managers, escalation."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communications import conf
from communications.models import (
    AlertDecision,
    Channel,
    EmergencyAlert,
    Message,
    Notification,
    Priority,
)
from communications.services.alerts import alert_data
from communications.services.common import ALERT_OBJECT, run_deduped
from communications.services.deliveries import deliveries_in_app_push
from communications.services.notifications import NotificationSpec, _notify_map, notify_role
from hvaccrm.geo import DISTRICTS, haversine_m
from hvaccrm.models import District, ServiceJob, Technician
from hvaccrm.realtime import events
from hvaccrm.realtime import groups as g


def _alert_point(alert: EmergencyAlert) -> tuple[float, float] | None:
    if alert.latitude is not None and alert.longitude is not None:
        return alert.latitude, alert.longitude
    if alert.district_id:
        _name, lat, lng, _tier, _w = DISTRICTS[alert.district.slug]
        return lat, lng
    return None


def _rank_technicians(alert: EmergencyAlert, district_ids: list[int], exclude_users: set[int]) -> tuple[list, list]:
    """(routed [(tech, km)], skipped [(tech, reason)]) for the districts, nearest first."""
    point = _alert_point(alert)
    routed, skipped = [], []
    techs = Technician.objects.filter(home_district_id__in=district_ids, active=True).select_related("user")
    for tech in techs:
        if tech.user_id in exclude_users:
            continue
        if not tech.on_shift:
            skipped.append((tech, "off shift"))
        elif tech.private_mode:
            skipped.append((tech, "private mode"))
        elif not tech.user.is_active:
            skipped.append((tech, "user inactive"))
        else:
            km = None
            if point and tech.last_latitude is not None and tech.last_longitude is not None:
                km = haversine_m(point[0], point[1], tech.last_latitude, tech.last_longitude) / 1000
            routed.append((tech, km))
    # Unknown positions last; ties by id so the order is stable.
    routed.sort(key=lambda tk: (tk[1] is None, tk[1] if tk[1] is not None else 0.0, tk[0].pk))
    return routed, skipped


def _technicians_route(
    alert: EmergencyAlert,
    *,
    district_ids: list[int],
    exclude_users: set[int],
    step_reason: str,
    skip_prefix: str,
    key_suffix: str,
    decisions: list[AlertDecision],
) -> list[int]:
    """Alert the available technicians of the districts, nearest first; note who was skipped and why."""
    routed, skipped = _rank_technicians(alert, district_ids, exclude_users)
    decisions += [
        AlertDecision(
            alert=alert,
            step=AlertDecision.Step.SKIPPED,
            user_id=t.user_id,
            technician=t,
            reason=f"{skip_prefix}{reason}",
        )
        for t, reason in skipped
    ]
    return _route_to(alert, routed, step_reason=step_reason, key_suffix=key_suffix, decisions=decisions)


def _route_to(
    alert: EmergencyAlert, routed: list, *, step_reason: str, key_suffix: str, decisions: list[AlertDecision]
) -> list[int]:
    """Notify technicians (one batch) and push each an `emergency.alert` with their notification id, nearest first."""
    if not routed:
        return []
    # Registered first so that, after commit, the pushes go out before the publishes of the SMS
    # deliveries' outbox rows (on_commit callbacks run in registration order).
    pushes: list[tuple[str, dict]] = []
    # Each push names the technician's notification: its in-app delivery is "sent" only if it
    # reached an open socket (deliveries_in_app_push).
    transaction.on_commit(
        lambda: deliveries_in_app_push(pushes=[(grp, ev, ev["data"].get("notification")) for grp, ev in pushes])
    )
    title = _("Emergency in %(district)s") % {"district": alert.district.name if alert.district_id else "?"}
    spec = NotificationSpec(
        kind="emergency.alert",
        title=title,
        body=alert.text[:1000],
        payload={"alert": alert.pk, "language": settings.LANGUAGE_CODE[:2]},
        priority=Priority.EMERGENCY,
        related_type=ALERT_OBJECT,
        related_id=str(alert.pk),
        dedupe_key=f"alert:{alert.pk}:{key_suffix}",
    )
    extra = {tech.user_id: {"rank": rank, "distance_km": km} for rank, (tech, km) in enumerate(routed, start=1)}
    by_user = _notify_map(spec=spec, user_ids=[t.user_id for t, _km in routed], push=False, extra=extra, fresh_key=True)
    decisions += [
        AlertDecision(
            alert=alert,
            step=AlertDecision.Step.ROUTED,
            user_id=tech.user_id,
            technician=tech,
            rank=rank,
            distance_km=km,
            reason=step_reason,
        )
        for rank, (tech, km) in enumerate(routed, start=1)
    ]
    pushes += [
        (
            g.technician_group(tech.pk),
            events.make_event(
                "emergency.alert",
                row_id=alert.pk,
                data=alert_data(alert, notification=by_user.get(tech.user_id), rank=rank, distance_km=km),
            ),
        )
        for rank, (tech, km) in enumerate(routed, start=1)
    ]
    return [tech.user_id for tech, _km in routed]


def emergency_dispatch(
    *, message_id: int | None, job_id: int | None, district_slug: str | None, text: str, dedupe_key: str
) -> dict:
    """Route an emergency to the district's on-shift technicians, nearest first; tell managers.

    No technician available -> the dispatchers are told instead. Escalation to the neighbouring
    districts happens in `escalation_sweep` after COMMS_ESCALATION_SECONDS without acknowledgement.
    Idempotent on dedupe_key: a second run returns the first run's alert.
    """
    existing = EmergencyAlert.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return _alert_duplicate(existing)
    place = _alert_place(message_id=message_id, job_id=job_id, district_slug=district_slug)

    def work() -> dict:
        alert = EmergencyAlert.objects.create(
            message=place.message,
            job=place.job,
            district=place.district,
            text=text[:4000],
            latitude=place.latitude,
            longitude=place.longitude,
            dedupe_key=dedupe_key,
            escalate_at=timezone.now() + timedelta(seconds=conf.ESCALATION_SECONDS),
        )
        decisions: list[AlertDecision] = []
        recipients = _technicians_route(
            alert,
            district_ids=[place.district.pk] if place.district else [],
            exclude_users=set(),
            step_reason="district technician",
            skip_prefix="",
            key_suffix="district",
            decisions=decisions,
        )
        staff = _staff_spec(alert, district=place.district, text=text)
        if not recipients:
            recipients = _dispatchers_alert(alert, staff, decisions)
        _managers_alert(alert, staff, decisions)
        AlertDecision.objects.bulk_create(decisions)
        events.emit(
            [g.dispatch_group()], "emergency.alert", row_id=alert.pk, data=alert_data(alert, recipients=recipients)
        )
        return {"alert": alert.pk, "recipients": recipients}

    # A concurrent run made the alert first (the dedupe key is unique): answer with that one.
    return run_deduped(
        work, made_by_other_run=lambda: _alert_duplicate(EmergencyAlert.objects.get(dedupe_key=dedupe_key))
    )


@dataclass(frozen=True)
class _AlertPlace:
    """Where an emergency is: from its message, its job, or the district named by the caller."""

    message: Message | None
    job: ServiceJob | None
    district: District | None
    latitude: float | None
    longitude: float | None


def _alert_place(*, message_id: int | None, job_id: int | None, district_slug: str | None) -> _AlertPlace:
    message = (
        Message.objects.select_related("conversation__job", "district").filter(pk=message_id).first()
        if message_id
        else None
    )
    job = ServiceJob.objects.select_related("district", "site").filter(pk=job_id).first() if job_id else None
    if job is None and message is not None and message.conversation.job_id:
        job = message.conversation.job
    if district_slug and message is not None and message.district_id and message.district.slug == district_slug:
        district = message.district  # the usual case: no second look-up
    else:
        district = District.objects.filter(slug=district_slug).first() if district_slug else None
    district = (
        district
        or (message.district if message and message.district_id else None)
        or (job.district if job and job.district_id else None)
    )
    if district is None and job is not None and job.site.district_id:
        district = job.site.district
    lat = message.latitude if message and message.latitude is not None else (job.latitude if job else None)
    lng = message.longitude if message and message.longitude is not None else (job.longitude if job else None)
    return _AlertPlace(message=message, job=job, district=district, latitude=lat, longitude=lng)


def _staff_spec(alert: EmergencyAlert, *, district: District | None, text: str) -> NotificationSpec:
    """The office's notification of an alert (dispatchers when no technician is free; managers)."""
    title = _("Emergency in %(district)s") % {"district": district.name if district else _("an unknown district")}
    return NotificationSpec(
        kind="emergency.alert",
        title=title,
        body=text[:1000],
        payload={"alert": alert.pk, "language": settings.LANGUAGE_CODE[:2]},
        priority=Priority.EMERGENCY,
        related_type=ALERT_OBJECT,
        related_id=str(alert.pk),
    )


def _dispatchers_alert(alert: EmergencyAlert, staff: NotificationSpec, decisions: list[AlertDecision]) -> list[int]:
    """No technician could be alerted: the dispatchers are, with every emergency channel."""
    spec = replace(staff, dedupe_key=f"alert:{alert.pk}:fallback")
    told = _notify_map(spec=spec, role="dispatcher", fresh_key=True)
    decisions.append(
        AlertDecision(
            alert=alert,
            step=AlertDecision.Step.FALLBACK,
            reason=_("no technician on shift in the district: %(n)s dispatcher notification(s)") % {"n": len(told)},
        )
    )
    return list(told)


def _managers_alert(alert: EmergencyAlert, staff: NotificationSpec, decisions: list[AlertDecision]) -> None:
    """Managers are told of every alert, in the app only (they do not drive out)."""
    spec = replace(staff, priority=Priority.HIGH, channels=[Channel.IN_APP], dedupe_key=f"alert:{alert.pk}:managers")
    managers = _notify_map(spec=spec, role="manager", fresh_key=True)
    decisions.append(
        AlertDecision(alert=alert, step=AlertDecision.Step.MANAGERS, reason=f"{len(managers)} manager notification(s)")
    )


def _alert_duplicate(alert: EmergencyAlert) -> dict:
    """The answer to a second run of the same emergency: the first run's alert and recipients."""
    return {"alert": alert.pk, "recipients": _alert_recipients(alert), "duplicate": True}


def _alert_recipients(alert: EmergencyAlert) -> list[int]:
    return list(
        Notification.objects.filter(related_type=ALERT_OBJECT, related_id=str(alert.pk))
        .exclude(dedupe_key__endswith=":managers")
        .values_list("recipient_id", flat=True)
    )


def alert_escalate(*, alert_id: int) -> list[int]:
    """Send an unacknowledged alert to the neighbouring districts' technicians and the dispatchers."""
    with transaction.atomic():
        alert = (
            EmergencyAlert.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("district", "message")
            .filter(pk=alert_id, state=EmergencyAlert.State.OPEN)
            .first()
        )
        if alert is None:
            return []
        already = set(
            AlertDecision.objects.filter(alert=alert, step=AlertDecision.Step.ROUTED).values_list("user_id", flat=True)
        )
        decisions: list[AlertDecision] = []
        recipients = _technicians_route(
            alert,
            district_ids=list(alert.district.neighbours.values_list("pk", flat=True)) if alert.district_id else [],
            exclude_users=already,
            step_reason="neighbouring district (escalation)",
            skip_prefix="escalation: ",
            key_suffix="escalation",
            decisions=decisions,
        )
        title = _("Unacknowledged emergency in %(district)s") % {
            "district": alert.district.name if alert.district_id else "?"
        }
        ids = notify_role(
            role="dispatcher",
            spec=NotificationSpec(
                kind="emergency.escalated",
                title=title,
                body=alert.text[:1000],
                payload={"alert": alert.pk},
                priority=Priority.EMERGENCY,
                related_type=ALERT_OBJECT,
                related_id=str(alert.pk),
                dedupe_key=f"alert:{alert.pk}:escalation-dispatch",
            ),
        )
        alert.state, alert.escalated_at = EmergencyAlert.State.ESCALATED, timezone.now()
        alert.save(update_fields=["state", "escalated_at"])
        decisions.append(
            AlertDecision(
                alert=alert,
                step=AlertDecision.Step.ESCALATED,
                reason=f"{len(recipients)} neighbouring technician(s), {len(ids)} dispatcher(s)",
            )
        )
        AlertDecision.objects.bulk_create(decisions)
        events.emit([g.dispatch_group()], "emergency.alert", row_id=alert.pk, data=alert_data(alert, escalated=True))
    return recipients


def escalation_sweep() -> int:
    """Escalate every open alert past its time; returns how many were escalated."""
    due = list(
        EmergencyAlert.objects.filter(state=EmergencyAlert.State.OPEN, escalate_at__lte=timezone.now()).values_list(
            "pk", flat=True
        )[:500]
    )
    done = 0
    for alert_id in due:
        alert_escalate(alert_id=alert_id)
        done += 1
    return done
