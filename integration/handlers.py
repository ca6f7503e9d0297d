"""Outbox handlers: one subsystem's event becomes another subsystem's work.

One handler per (target, kind) of the contracts (contracts.py registers them with the core). Each
reads its row's payload as the contract's type (the payload was checked when the row was
recorded), calls one function of the integration service with `dedupe_key=f"outbox:{row.pk}"`
(so a second run of the same row creates nothing new) and returns a small dict, kept as the row's
details when its audit level is "detailed". A handler that raises leaves the row failed; the
sweep retries it.
"""

from __future__ import annotations

from typing import cast

from communications.services import DeliveryFailed
from hvaccrm.models import IntegrationLog
from hvaccrm.services.outbox import HandlerFailed
from integration import mail
from integration import services as integration
from integration.payloads import (
    BookingConfirmation,
    DeliverySend,
    EmergencyAlert,
    FeedbackCreated,
    HotspotAlert,
    InboundEmergency,
    JobChange,
    JobCompleted,
    JobConfirmationEmail,
    JobTimeChangeEmail,
    MessageRelay,
    MessageToMap,
    MessageToProphecy,
    SigninLink,
    VisitMoved,
)


def dedupe_key(row: IntegrationLog) -> str:
    return f"outbox:{row.pk}"


def _change(row: IntegrationLog, p: JobChange) -> str:
    return p.get("change") or ("created" if row.kind == "job.created" else "")


# --- message.created / emergency.alert (communications) -------------------------------------------


def message_to_map(row: IntegrationLog) -> dict:
    p = cast(MessageToMap, row.payload)
    return integration.update_map_system(
        dedupe_key=dedupe_key(row), message_id=p["message"], job_id=p["job"], latitude=p["latitude"],
        longitude=p["longitude"], district_slug=p["district"] or None, urgency=p["urgency"] or "normal",
    )


def message_to_prophecy(row: IntegrationLog) -> dict:
    p = cast(MessageToProphecy, row.payload)
    return integration.sync_prophecy_data(
        object_type=integration.MESSAGE_TYPE, object_id=str(p["message"]), text=p["text"],
        district=p["district"] or None, service_type=p["service_type"] or None, created=p["created"],
        client_id=p["client"],
        extra={"conversation": p["conversation"], "language": p["language"], "urgency": p["urgency"]},
    )


def emergency_to_technicians(row: IntegrationLog) -> dict:
    p = cast(EmergencyAlert, row.payload)
    return integration.emergency_dispatch_run(
        message_id=p["message"], job_id=p["job"], district_slug=p["district"] or None, text=p["text"],
        dedupe_key=dedupe_key(row),
    )


# --- job.created / job.updated (core) ---------------------------------------------------------


def job_to_client(row: IntegrationLog) -> dict:
    p = cast(JobChange, row.payload)
    return integration.job_update_notify_run(job_id=p["job"], change=_change(row, p), status=p.get("status"),
                                             previous_status=p.get("previous_status"), dedupe_key=dedupe_key(row),
                                             technician=p.get("technician"),
                                             previous_technician=p.get("previous_technician"))


def job_to_routes(row: IntegrationLog) -> dict:
    p = cast(JobChange, row.payload)
    return integration.job_replan_if_needed(job_id=p["job"], change=_change(row, p),
                                            day=integration.job_day(job_id=p["job"], payload=p))


# --- booking.created / feedback.created (portal) ------------------------------------------------


def booking_to_systems(row: IntegrationLog) -> dict:
    p = cast(JobChange, row.payload)
    return integration.sync_client_portal_activity(kind="booking.created", job_id=p["job"],
                                                   dedupe_key=dedupe_key(row))


def booking_confirmation_to_client(row: IntegrationLog) -> dict:
    p = cast(BookingConfirmation, row.payload)
    return integration.booking_confirmation_send(job_id=p["job"], user_id=p["user"])


def confirmation_email_to_client(row: IntegrationLog) -> dict | HandlerFailed:
    p = cast(JobConfirmationEmail, row.payload)
    try:
        return mail.job_confirmation_email_send(job_id=p["job"], log_id=row.pk)
    except DeliveryFailed as exc:
        return HandlerFailed(str(exc))  # the mail server refused: the sweep sends it again


def time_change_email_to_client(row: IntegrationLog) -> dict | HandlerFailed:
    p = cast(JobTimeChangeEmail, row.payload)
    try:
        return mail.job_time_change_email_send(job_id=p["job"], log_id=row.pk, key=p["key"])
    except DeliveryFailed as exc:
        return HandlerFailed(str(exc))  # the mail server refused: the sweep sends it again


def feedback_to_systems(row: IntegrationLog) -> dict:
    p = cast(FeedbackCreated, row.payload)
    return integration.sync_client_portal_activity(kind="feedback.created", feedback_id=p["feedback"],
                                                   dedupe_key=dedupe_key(row))


# --- prophecy.alert (prophecy), job.completed (core) and delivery.send (communications) ----------


def prophecy_to_managers(row: IntegrationLog) -> dict:
    p = cast(HotspotAlert, row.payload)
    return integration.prophecy_alert_dispatch(prediction_id=p["prediction"], payload=p, dedupe_key=dedupe_key(row))


def completed_job_to_prophecy(row: IntegrationLog) -> dict:
    p = cast(JobCompleted, row.payload)
    return integration.sync_prophecy_data(
        object_type=integration.JOB_TYPE, object_id=str(p["job"]), text=p["text"], district=p["district"],
        service_type=p["service_type"], created=p["created"], client_id=p["client"],
        extra={"equipment": p["equipment"], "resolution": p["resolution"], "status": p["status"]},
    )


def delivery_to_channel(row: IntegrationLog) -> dict | HandlerFailed:
    p = cast(DeliverySend, row.payload)
    try:
        return integration.delivery_run(delivery_id=p["delivery"])
    except DeliveryFailed as exc:
        # Reported, not raised: the attempt, its error and the delivery's state stay recorded on
        # the Delivery row while the outbox schedules the retry.
        return HandlerFailed(str(exc))


def message_to_client_channel(row: IntegrationLog) -> dict | HandlerFailed:
    p = cast(MessageRelay, row.payload)
    try:
        return integration.message_relay_run(message_id=p["message"], channel=p["channel"])
    except DeliveryFailed as exc:
        return HandlerFailed(str(exc))


def inbound_emergency_to_dispatchers(row: IntegrationLog) -> dict | HandlerFailed:
    p = cast(InboundEmergency, row.payload)
    try:
        return integration.inbound_emergency_run(thread_id=p["thread"], channel=p["channel"], text=p["text"],
                                                 language=p["language"], safety=p["safety"], reply=p["reply"],
                                                 dedupe_key=dedupe_key(row))
    except DeliveryFailed as exc:
        # The dispatchers were alerted (deduped on the retry); the instruction's gateway refused.
        return HandlerFailed(str(exc))


def visit_moved_to_office(row: IntegrationLog) -> dict:
    p = cast(VisitMoved, row.payload)
    return integration.visit_moved_notify_run(job_id=p["job"], day=p["day"], previous_day=p["previous_day"])


def signin_link_to_user(row: IntegrationLog) -> dict | HandlerFailed:
    p = cast(SigninLink, row.payload)
    try:
        return mail.signin_link_send_run(user_id=p["user"], purpose=p["purpose"], created_by=p["created_by"],
                                                dedupe_key=dedupe_key(row))
    except DeliveryFailed as exc:
        return HandlerFailed(str(exc))  # the attempt stays recorded on the Delivery; the row is retried
