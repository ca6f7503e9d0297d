"""Outbox handlers: one subsystem's event becomes another subsystem's work.

One handler per (target, kind) of the contracts. Each unpacks its row's payload, calls one
function of the integration service with `dedupe_key=f"outbox:{row.pk}"` (so a second run of the
same row creates nothing new) and returns a small dict, kept as the row's details when its audit
level is "detailed". A handler that raises leaves the row failed; the sweep retries it.
"""

from __future__ import annotations

from typing import Any

from hvaccrm.models import IntegrationLog
from hvaccrm.models.outbox import Target
from hvaccrm.services.outbox import HandlerFailed, outbox_handler
from integration import services as integration


def dedupe_key(row: IntegrationLog) -> str:
    return f"outbox:{row.pk}"


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _object_int(row: IntegrationLog, key: str) -> int | None:
    """The object's id from the payload, else from the row's object reference."""
    value = _int(row.payload.get(key))
    return value if value is not None else _int(row.object_id)


# --- message.created / emergency.alert (communications) -------------------------------------------


@outbox_handler(Target.MAP, "message.created")
def message_to_map(row: IntegrationLog) -> dict:
    p = row.payload
    return integration.update_map_system(
        dedupe_key=dedupe_key(row), message_id=_object_int(row, "message"), job_id=_int(p.get("job")),
        latitude=p.get("latitude"), longitude=p.get("longitude"), district_slug=p.get("district") or None,
        urgency=p.get("urgency") or "normal",
    )


@outbox_handler(Target.PROPHECY, "message.created")
def message_to_prophecy(row: IntegrationLog) -> dict:
    p = row.payload
    return integration.sync_prophecy_data(
        object_type=integration.MESSAGE_TYPE, object_id=str(_object_int(row, "message")), text=p.get("text") or "",
        district=p.get("district") or None, service_type=p.get("service_type") or None, created=p.get("created"),
        client_id=_int(p.get("client")),
        extra={k: p.get(k) for k in ("conversation", "language", "urgency") if p.get(k) is not None},
    )


@outbox_handler(Target.NOTIFICATIONS, "emergency.alert")
def emergency_to_technicians(row: IntegrationLog) -> dict:
    p = row.payload
    return integration.emergency_dispatch_run(
        message_id=_object_int(row, "message") if row.object_type == integration.MESSAGE_TYPE else _int(p.get("message")),
        job_id=_int(p.get("job")), district_slug=p.get("district") or None, text=p.get("text") or "",
        dedupe_key=dedupe_key(row),
    )


# --- job.created / job.updated (core) ---------------------------------------------------------


@outbox_handler(Target.NOTIFICATIONS, "job.created")
@outbox_handler(Target.NOTIFICATIONS, "job.updated")
def job_to_client(row: IntegrationLog) -> dict:
    p = row.payload
    change = p.get("change") or ("created" if row.kind == "job.created" else "")
    return integration.job_update_notify_run(job_id=_object_int(row, "job"), change=change,
                                             previous_status=p.get("previous_status"), dedupe_key=dedupe_key(row))


@outbox_handler(Target.MAP, "job.created")
@outbox_handler(Target.MAP, "job.updated")
def job_to_routes(row: IntegrationLog) -> dict:
    p = row.payload
    change = p.get("change") or ("created" if row.kind == "job.created" else "")
    job_id = _object_int(row, "job")
    return integration.job_replan_if_needed(job_id=job_id, change=change,
                                            day=integration.job_day(job_id=job_id, payload=p))


# --- booking.created / feedback.created (portal) ------------------------------------------------


@outbox_handler(Target.PORTAL, "booking.created")
def booking_to_systems(row: IntegrationLog) -> dict:
    return integration.sync_client_portal_activity(kind="booking.created", job_id=_object_int(row, "job"),
                                                   dedupe_key=dedupe_key(row))


@outbox_handler(Target.PORTAL, "feedback.created")
def feedback_to_systems(row: IntegrationLog) -> dict:
    return integration.sync_client_portal_activity(kind="feedback.created", feedback_id=_object_int(row, "feedback"),
                                                   dedupe_key=dedupe_key(row))


# --- prophecy.alert (prophecy) and delivery.send (communications) --------------------------------


@outbox_handler(Target.NOTIFICATIONS, "prophecy.alert")
def prophecy_to_managers(row: IntegrationLog) -> dict:
    return integration.prophecy_alert_dispatch(prediction_id=_object_int(row, "prediction"), payload=row.payload,
                                               dedupe_key=dedupe_key(row))


@outbox_handler(Target.PROPHECY, "job.completed")
def completed_job_to_prophecy(row: IntegrationLog) -> dict:
    p = row.payload
    return integration.sync_prophecy_data(
        object_type="hvaccrm.servicejob", object_id=str(p["job"]), text=p.get("text") or "",
        district=p.get("district"), service_type=p.get("service_type"), created=p.get("created"),
        client_id=p.get("client"),
        extra={"equipment": p.get("equipment", ""), "resolution": p.get("resolution", ""), "status": p.get("status")},
    )


@outbox_handler(Target.NOTIFICATIONS, "delivery.send")
def delivery_to_channel(row: IntegrationLog) -> dict | HandlerFailed:
    try:
        return integration.delivery_run(delivery_id=_object_int(row, "delivery"))
    except integration.DeliveryFailed as exc:
        # Reported, not raised: the attempt, its error and the delivery's state stay recorded on
        # the Delivery row while the outbox schedules the retry.
        return HandlerFailed(str(exc))
