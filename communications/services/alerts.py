"""An alert's state and its `emergency.alert` data: shared by the routing (emergencies.py) and the
acknowledgement of a notification (notifications.py), which builds on nothing of the routing."""

from __future__ import annotations

from typing import Any

from communications.models import AlertDecision, EmergencyAlert
from communications.services.common import _technician_of
from hvaccrm.realtime import events
from hvaccrm.realtime import groups as g


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
    alert = (
        EmergencyAlert.objects.select_for_update(of=("self",))
        .select_related("district", "message")
        .filter(pk=alert_id)
        .first()
    )
    if alert is None or alert.state == EmergencyAlert.State.ACKNOWLEDGED:
        return
    alert.state, alert.acknowledged_at, alert.acknowledged_by = EmergencyAlert.State.ACKNOWLEDGED, now, user
    alert.save(update_fields=["state", "acknowledged_at", "acknowledged_by"])
    AlertDecision.objects.create(
        alert=alert,
        step=AlertDecision.Step.ACKNOWLEDGED,
        user=user,
        technician=_technician_of(user),
        reason="acknowledged",
    )
    events.emit(
        [g.dispatch_group()],
        "emergency.alert",
        row_id=alert.pk,
        data=alert_data(
            alert, acknowledged_by=user.pk, acknowledged_by_name=user.get_full_name() or user.get_username()
        ),
    )
