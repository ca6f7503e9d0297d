"""Emergency routing: the escalation chain (district technicians nearest first, neighbouring
districts, dispatchers, managers), each step waiting for an accept until its timeout."""

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
    AlertResponse,
    Channel,
    Delivery,
    EmergencyAlert,
    Message,
    Priority,
)
from communications.services.alerts import ALERT_WAITING, alert_chain, alert_data
from communications.services.common import ALERT_OBJECT, run_deduped
from communications.services.deliveries import deliveries_in_app_push
from communications.services.notifications import NotificationSpec, _notify_map, external_deliveries_save
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
    techs = Technician.objects.filter(home_district_id__in=district_ids, active=True).select_related(
        "user__notification_preference")
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


def _route_to(
    alert: EmergencyAlert, routed: list, *, step_reason: str, key_suffix: str, decisions: list[AlertDecision]
) -> dict[int, int]:
    """Notify technicians (one batch, in-app only: the SMS deliveries follow in
    `external_deliveries_save`) and push each an `emergency.alert` with their notification id,
    nearest first, once committed; {user id: notification id}."""
    if not routed:
        return {}
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
    by_user = _notify_map(spec=spec, user_ids=[t.user_id for t, _km in routed], push=False, extra=extra,
                          fresh_key=True, in_app_only=True, users=[t.user for t, _km in routed])
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
    _frames_after_commit(alert, [(tech.pk, tech.user_id, by_user.get(tech.user_id), rank, km)
                                 for rank, (tech, km) in enumerate(routed, start=1)])
    return by_user


def _frames_after_commit(alert: EmergencyAlert, people: list[tuple[int, int, int | None, int, float | None]]) -> None:
    """Each technician's `emergency.alert` (technician id, user id, notification id, rank, km), sent
    after commit. Each names the technician's notification: its in-app delivery is "sent" only if
    it reached an open socket (deliveries_in_app_push). The event is built once and copied per
    technician (200 JSON round trips were on the alert's path)."""
    base = events.make_event("emergency.alert", row_id=alert.pk, data=alert_data(alert))
    pushes = [
        (g.technician_group(tech_id), {**base, "data": {**base["data"], "notification": nid, "rank": rank,
                                                        "distance_km": km}}, nid)
        for tech_id, _user_id, nid, rank, km in people
    ]
    recipients = {nid: user_id for _t, user_id, nid, _r, _k in people if nid}
    transaction.on_commit(lambda: deliveries_in_app_push(pushes=pushes, recipients=recipients))


def emergency_dispatch(
    *, message_id: int | None, job_id: int | None, district_slug: str | None, text: str, dedupe_key: str
) -> dict:
    """Open an emergency's escalation chain: its first step with anyone to alert starts at once
    (the district's on-shift technicians, nearest first; else the neighbours', the dispatchers',
    the managers'); managers are told of every alert. Each step waits for an accept until its
    timeout (`escalation_sweep`), or less when all of it declines.
    Idempotent on dedupe_key: a second run returns the first run's alert.
    """
    existing = EmergencyAlert.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        _alert_complete(existing)  # a run that died between the halves left the second one
        return _alert_duplicate(existing)
    place = _alert_place(message_id=message_id, job_id=job_id, district_slug=district_slug)

    def work() -> tuple[EmergencyAlert, list[int], list[AlertDecision]]:
        alert = EmergencyAlert.objects.create(
            message=place.message,
            job=place.job,
            district=place.district,
            text=text[:4000],
            latitude=place.latitude,
            longitude=place.longitude,
            dedupe_key=dedupe_key,
            escalate_at=timezone.now(),
        )
        decisions: list[AlertDecision] = []
        return alert, _chain_start(alert, step=0, decisions=decisions, reason=""), decisions

    # The first half commits the alert, its first step's responses and in-app notifications: the
    # technicians' frames go out on that commit (when this is the outermost transaction, as the
    # outbox runs it), before the SMS deliveries, the routing log and the managers are written.
    # A concurrent run made the alert first (the dedupe key is unique): answer with that one.
    made = run_deduped(work, made_by_other_run=lambda: None)
    if made is None:
        return _alert_duplicate(EmergencyAlert.objects.get(dedupe_key=dedupe_key))
    alert, recipients, decisions = made
    _alert_complete(alert, decisions=decisions, recipients=recipients)
    return {"alert": alert.pk, "recipients": recipients}


def _alert_complete(alert: EmergencyAlert, *, decisions: list[AlertDecision] | None = None,
                    recipients: list[int] | None = None) -> None:
    """The second half of a dispatch: the SMS deliveries of the alerted step, the routing log, the
    managers and the office's chain. Once: the managers' decision marks it done (written in the
    same transaction), so a retry after a run that died between the halves writes it once, and
    pushes the frames again to whoever's in-app delivery is still pending."""
    with transaction.atomic():
        alert = (EmergencyAlert.objects.select_for_update(of=("self",)).select_related("district", "message")
                 .filter(pk=alert.pk).first())
        if alert is None or AlertDecision.objects.filter(alert=alert, step=AlertDecision.Step.MANAGERS).exists():
            return
        if decisions is None:
            decisions = _alert_routed_again(alert)
        external_deliveries_save(notification_ids=_step_notifications(alert))
        _managers_alert(alert, _staff_spec(alert, district=alert.district, text=alert.text), decisions)
        AlertDecision.objects.bulk_create(decisions)
        _alert_announce(alert, recipients=_alert_recipients(alert) if recipients is None else recipients)


def _step_notifications(alert: EmergencyAlert) -> list[int]:
    """The notifications of the alert's current step (its responses')."""
    return list(AlertResponse.objects.filter(alert=alert, step=alert.step).exclude(notification=None)
                .values_list("notification_id", flat=True))


def _alert_routed_again(alert: EmergencyAlert) -> list[AlertDecision]:
    """After a run died between the halves: the routing log from the responses, and the frames
    again to the technicians whose in-app delivery is still pending (nobody saw it yet)."""
    responses = list(AlertResponse.objects.filter(alert=alert, step=alert.step).exclude(technician=None))
    pending = set(
        Delivery.objects.filter(notification_id__in=[r.notification_id for r in responses], channel=Channel.IN_APP,
                                state=Delivery.State.PENDING).values_list("notification_id", flat=True)
    )
    _frames_after_commit(alert, [(r.technician_id, r.user_id, r.notification_id, r.rank, r.distance_km)
                                 for r in responses if r.notification_id in pending])
    return [AlertDecision(alert=alert, step=AlertDecision.Step.ROUTED, user_id=r.user_id, technician_id=r.technician_id,
                          rank=r.rank, distance_km=r.distance_km, reason=str(r.step_kind)) for r in responses]


# --- the escalation chain -------------------------------------------------------------------------

CHAIN = (
    AlertResponse.Step.DISTRICT,
    AlertResponse.Step.NEIGHBOURS,
    AlertResponse.Step.DISPATCHERS,
    AlertResponse.Step.MANAGERS,
)


def _step_timeout(kind: str) -> int:
    return {
        AlertResponse.Step.DISTRICT: conf.CHAIN_DISTRICT_SECONDS,
        AlertResponse.Step.NEIGHBOURS: conf.CHAIN_NEIGHBOURS_SECONDS,
        AlertResponse.Step.DISPATCHERS: conf.CHAIN_DISPATCHERS_SECONDS,
        AlertResponse.Step.MANAGERS: conf.CHAIN_MANAGERS_SECONDS,
    }[kind]


def _chain_start(alert: EmergencyAlert, *, step: int, decisions: list[AlertDecision], reason: str) -> list[int]:
    """Start step `step`, or the first later step with anyone left to alert; the alert's step,
    state and deadline follow. Past the last step the alert is unanswered (it can still be
    accepted by anyone alerted). Returns the user ids alerted."""
    already = set(AlertResponse.objects.filter(alert=alert).values_list("user_id", flat=True))
    while step < len(CHAIN):
        kind = CHAIN[step]
        recipients = _step_alert(alert, step=step, kind=kind, exclude_users=already, decisions=decisions)
        if step > 0:
            decisions.append(AlertDecision(
                alert=alert, step=AlertDecision.Step.ESCALATED,
                reason=f"step {step + 1} ({kind}): {len(recipients)} alerted" + (f"; {reason}" if reason else ""),
            ))
        if recipients:
            alert.step = step
            alert.state = EmergencyAlert.State.OPEN if step == 0 else EmergencyAlert.State.ESCALATED
            alert.escalate_at = timezone.now() + timedelta(seconds=_step_timeout(kind))
            if step > 0:
                alert.escalated_at = alert.escalated_at or timezone.now()
            alert.save(update_fields=["step", "state", "escalate_at", "escalated_at"])
            return recipients
        step += 1
        reason = _("nobody to alert at the previous step")
    alert.step, alert.state = len(CHAIN) - 1, EmergencyAlert.State.UNANSWERED
    alert.save(update_fields=["step", "state"])
    return []


def _step_alert(
    alert: EmergencyAlert, *, step: int, kind: str, exclude_users: set[int], decisions: list[AlertDecision]
) -> list[int]:
    """Alert everyone of one step together; one AlertResponse each (the chain the office sees)."""
    if kind in (AlertResponse.Step.DISTRICT, AlertResponse.Step.NEIGHBOURS):
        if not alert.district_id:
            return []
        district_ids = (
            [alert.district_id]
            if kind == AlertResponse.Step.DISTRICT
            else list(alert.district.neighbours.values_list("pk", flat=True))
        )
        routed, skipped = _rank_technicians(alert, district_ids, exclude_users)
        prefix = "" if kind == AlertResponse.Step.DISTRICT else "escalation: "
        decisions += [
            AlertDecision(alert=alert, step=AlertDecision.Step.SKIPPED, user_id=t.user_id, technician=t,
                          reason=f"{prefix}{why}")
            for t, why in skipped
        ]
        by_user = _route_to(alert, routed, step_reason=str(kind), key_suffix=f"step{step}", decisions=decisions)
        people = [(t.user_id, t, rank, km) for rank, (t, km) in enumerate(routed, start=1)]
    else:
        role = "dispatcher" if kind == AlertResponse.Step.DISPATCHERS else "manager"
        staff = _staff_spec(alert, district=alert.district, text=alert.text)
        by_user = _notify_map(spec=replace(staff, dedupe_key=f"alert:{alert.pk}:step{step}"), role=role,
                              fresh_key=True)
        by_user = {u: n for u, n in by_user.items() if u not in exclude_users}
        if kind == AlertResponse.Step.DISPATCHERS and not exclude_users:
            decisions.append(AlertDecision(
                alert=alert, step=AlertDecision.Step.FALLBACK,
                reason=_("no technician on shift in the district: %(n)s dispatcher notification(s)")
                % {"n": len(by_user)},
            ))
        people = [(u, None, rank, None) for rank, u in enumerate(by_user, start=1)]
    now = timezone.now()
    AlertResponse.objects.bulk_create([
        AlertResponse(alert=alert, step=step, step_kind=kind, user_id=user_id, technician=tech, rank=rank,
                      distance_km=km, notification_id=by_user.get(user_id), alerted_at=now)
        for user_id, tech, rank, km in people
    ])
    return [user_id for user_id, _t, _r, _k in people]


def alert_step_advance(*, alert_id: int, from_step: int, reason: str, now=None) -> list[int]:
    """Start the step after `from_step` (its timeout passed, or all of it declined). Idempotent: an
    alert already past `from_step`, accepted or unanswered is left alone, so the beat, a retried
    task and a last decline racing each other start the next step once."""
    now = now or timezone.now()
    with transaction.atomic():
        alert = (
            EmergencyAlert.objects.select_for_update(of=("self",))
            .select_related("district", "message")
            .filter(pk=alert_id, step=from_step, state__in=ALERT_WAITING)
            .first()
        )
        if alert is None:
            return []
        return _alert_advance_locked(alert, reason=reason)


def _alert_advance_locked(alert: EmergencyAlert, *, reason: str) -> list[int]:
    """The next step of a locked, waiting alert (also called by a decline inside its transaction)."""
    decisions: list[AlertDecision] = []
    recipients = _chain_start(alert, step=alert.step + 1, decisions=decisions, reason=reason)
    external_deliveries_save(notification_ids=_step_notifications(alert))
    AlertDecision.objects.bulk_create(decisions)
    _alert_announce(alert, recipients=recipients)
    return recipients


def alert_escalate(*, alert_id: int) -> list[int]:
    """Staff escalate a waiting alert now (admin action): its next step starts."""
    step = EmergencyAlert.objects.filter(pk=alert_id).values_list("step", flat=True).first()
    if step is None:
        return []
    return alert_step_advance(alert_id=alert_id, from_step=step, reason=_("escalated by staff"))


def escalation_sweep() -> int:
    """Advance every waiting alert whose step timed out (the beat, every 15 s, on the emergency
    queue); returns how many advanced."""
    due = list(
        EmergencyAlert.objects.filter(state__in=ALERT_WAITING, escalate_at__lte=timezone.now())
        .values_list("pk", "step")[:500]
    )
    for alert_id, step in due:
        alert_step_advance(alert_id=alert_id, from_step=step, reason=_("nobody accepted in time"))
    return len(due)


def _alert_announce(alert: EmergencyAlert, **extra) -> None:
    """The alert and its chain to dispatch and the office inbox, after commit. The chain is read
    then, after the technicians' pushes (hooks run in registration order): reading and shaping 200
    responses inside the transaction delayed every technician's alert (the committed chain is the
    same, or newer)."""

    def announce() -> None:
        event = events.make_event("emergency.alert", row_id=alert.pk,
                                  data=alert_data(alert, chain=alert_chain(alert), **extra))
        events.send_now([g.dispatch_group(), g.inbox_group()], event)

    transaction.on_commit(announce)


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
    return list(AlertResponse.objects.filter(alert=alert).order_by("step", "rank", "id").values_list("user_id", flat=True))
