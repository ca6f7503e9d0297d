"""An alert's state, its chain and its `emergency.alert` data: shared by the routing
(emergencies.py), the accept and decline (responses.py) and the acknowledgement of a notification
(notifications.py), which builds on nothing of the routing."""

from __future__ import annotations

from typing import Any

from communications.models import AlertDecision, AlertResponse, EmergencyAlert
from communications.services.common import _technician_of
from hvaccrm.realtime import events
from hvaccrm.realtime import groups as g

# The states in which an alert's chain still runs (a step waits for an accept).
ALERT_WAITING = (EmergencyAlert.State.OPEN, EmergencyAlert.State.ESCALATED)


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def alert_chain(alert: EmergencyAlert) -> dict[str, Any]:
    """The chain as the office sees it: per step who was alerted when, who declined and why, who
    accepted, and the time from the alert to the accept (seconds). One query."""
    responses = list(AlertResponse.objects.filter(alert_id=alert.pk).select_related("user").order_by("step", "rank", "id"))
    steps: dict[int, dict[str, Any]] = {}
    for r in responses:
        step = steps.setdefault(r.step, {"step": r.step, "kind": r.step_kind, "label": str(r.get_step_kind_display()),
                                         "started_at": r.alerted_at.isoformat(), "responses": []})
        step["responses"].append({
            "user": r.user_id, "name": _person(r.user), "rank": r.rank, "distance_km": r.distance_km,
            "state": r.state, "state_label": str(r.get_state_display()), "reason": r.reason,
            "alerted_at": r.alerted_at.isoformat(),
            "responded_at": r.responded_at.isoformat() if r.responded_at else None,
        })
    accepted = next((r for r in responses if r.state == AlertResponse.State.ACCEPTED), None)
    return {
        "state": alert.state, "step": alert.step,
        "deadline": alert.escalate_at.isoformat() if alert.state in ALERT_WAITING else None,
        "steps": [steps[k] for k in sorted(steps)],
        "accepted_by": _person(accepted.user) if accepted else None,
        "seconds_to_accept": round((alert.accepted_at - alert.created_at).total_seconds(), 1)
        if alert.accepted_at and alert.created_at else None,
    }


def alert_data(alert: EmergencyAlert, **extra) -> dict[str, Any]:
    data = {
        "alert": alert.pk,
        "message": alert.message_id,
        "job": alert.job_id,
        "district": alert.district.slug if alert.district_id else None,
        "text": alert.text,
        "urgency": "emergency",
        "state": alert.state,
        "latitude": alert.latitude,
        "longitude": alert.longitude,
    }
    if alert.message_id and alert.message is not None:
        data["service_types"] = alert.message.service_types
    data.update(extra)
    return data


def alert_acknowledge(*, alert_id: int, user, now) -> None:
    """A device confirmed it showed the alert: noted (the first one), but a read takes no job, so
    the chain keeps running until someone accepts (responses.alert_accept)."""
    alert = (
        EmergencyAlert.objects.select_for_update(of=("self",))
        .select_related("district", "message")
        .filter(pk=alert_id)
        .first()
    )
    if alert is None or alert.acknowledged_at is not None:
        return
    alert.acknowledged_at, alert.acknowledged_by = now, user
    alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
    AlertDecision.objects.create(
        alert=alert,
        step=AlertDecision.Step.ACKNOWLEDGED,
        user=user,
        technician=_technician_of(user),
        reason="acknowledged",
    )
    events.emit(
        [g.dispatch_group(), g.inbox_group()],
        "emergency.alert",
        row_id=alert.pk,
        data=alert_data(
            alert, acknowledged_by=user.pk, acknowledged_by_name=user.get_full_name() or user.get_username()
        ),
    )
