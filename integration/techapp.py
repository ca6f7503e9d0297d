"""What the technician app asks of the subsystems: the app (`techapp/`) imports no subsystem itself.

Like `integration.portal`, this is the one door of a user interface into communications and
mapping: the app calls these functions, and these call the subsystems' public services and
selectors by plain import. The services own their transactions and refuse with `ServiceError`;
`techapp.services.device_action_apply` wraps one call in its idempotency transaction (so an
action and its key commit together or not at all).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from communications import selectors as comms_selectors
from communications import services as comms
from communications.models import Conversation, EmergencyAlert, Message
from communications.services.alerts import alert_data
from hvaccrm.models import ServiceJob, Technician
from integration.portal import notification_list, notification_read_all, notification_unread_count
from mapping import selectors as mapping_selectors
from mapping import services as mapping
from mapping.forms import CompletionForm

__all__ = [
    "CompletionForm",
    "alert_accept",
    "alert_decline",
    "alert_open_for_user",
    "job_complete",
    "job_conversation",
    "job_message_send",
    "job_step",
    "notification_list",
    "notification_read_all",
    "notification_unread_count",
    "position_history_record",
    "technician_days",
    "technician_private_mode_set",
    "technician_shift_set",
]


# --- the days ---------------------------------------------------------------------------------------


def technician_days(*, technician: Technician, days: list) -> list[tuple[Any, list[ServiceJob]]]:
    """The technician's jobs per day in route order (mapping's plan); a job shows on its first day."""
    seen: set[int] = set()
    out = []
    for day in days:
        jobs = [j for j in mapping_selectors.technician_day(technician=technician, day=day) if j.pk not in seen]
        seen.update(j.pk for j in jobs)
        out.append((day, jobs))
    return out


# --- job steps ------------------------------------------------------------------------------------


def job_step(*, job: ServiceJob, technician: Technician, to_status: str) -> ServiceJob:
    return mapping.job_step(job=job, technician=technician, to_status=to_status)


def job_complete(*, job: ServiceJob, technician: Technician, report: dict[str, Any]) -> ServiceJob:
    return mapping.job_complete(job=job, technician=technician, **report)


def technician_shift_set(*, technician: Technician, on_shift: bool) -> Technician:
    return mapping.technician_shift_set(technician=technician, on_shift=on_shift)


def technician_private_mode_set(*, technician: Technician, private: bool) -> Technician:
    return mapping.technician_private_mode_set(technician=technician, private=private)


def emergency_sms_of(*, user) -> bool:
    return comms_selectors.emergency_sms_of(user_id=user.pk)


def emergency_sms_set(*, user, on: bool) -> bool:
    return comms.emergency_sms_set(user=user, on=on).emergency_sms


def position_history_record(*, technician: Technician, latitude: float, longitude: float, accuracy: float,
                            device_time, seq: int) -> dict[str, Any]:
    return mapping.location_history_record(technician=technician, latitude=latitude, longitude=longitude,
                                           accuracy=accuracy, device_time=device_time, seq=seq)


# --- the job's conversation ------------------------------------------------------------------------


def job_conversation(*, user, job: ServiceJob, limit: int = 100) -> dict[str, Any]:
    """The job's conversation (the newest, if several) and its last messages, oldest first."""
    conversation = (comms_selectors.conversation_list_visible(user=user).filter(job_id=job.pk)
                    .order_by("-last_message_at", "-id").first())
    thread: list[Message] = []
    if conversation is not None:
        newest = (comms_selectors.message_list_visible(user=user).filter(conversation_id=conversation.pk)
                  .select_related("author").order_by("-created_at", "-id")[:limit])
        thread = list(reversed(list(newest)))
        for message in thread:
            if message.author_id != user.pk:
                comms.message_read(user=user, message_id=message.pk)
    return {"conversation": conversation, "thread": thread}


def job_message_send(*, user, job: ServiceJob, body: str) -> Message:
    """The technician's message in the job's conversation (the office inbox and the client see it).
    A job without one gets it now, opened by its technician (communications checks the assignment)."""
    with transaction.atomic():
        # The job's row lock: two phones replaying a first message at once open one conversation.
        ServiceJob.objects.select_for_update().filter(pk=job.pk).first()
        conversation: Conversation | None = (comms_selectors.conversation_list_visible(user=user)
                                             .filter(job_id=job.pk).order_by("-last_message_at", "-id").first())
        if conversation is None:
            conversation = comms.conversation_start(author=user, client_id=job.client_id, job_id=job.pk,
                                                    subject=job.description[:200])
        return comms.message_send(author=user, conversation_id=conversation.pk, body=body)


# --- emergency alerts ------------------------------------------------------------------------------


def alert_accept(*, alert_id: int, user) -> EmergencyAlert:
    return comms.alert_accept(alert_id=alert_id, user=user)


def alert_decline(*, alert_id: int, user, reason: str):
    return comms.alert_decline(alert_id=alert_id, user=user, reason=reason)


def alert_open_for_user(*, user) -> list[dict[str, Any]]:
    """Alerts still waiting for this person's answer (a page opened after the push shows them)."""
    alerts = (comms_selectors.alert_list_open()
              .filter(responses__user=user, responses__state="alerted").distinct().order_by("-pk")[:5])
    return [alert_data(a) for a in alerts]
