"""What the client portal asks of the subsystems: the portal imports no subsystem itself.

The portal is a user interface: it calls these functions (and its own and the core's services and
selectors), and these call the subsystems' public services and selectors by plain import. Nothing
here opens a transaction of another app or raises an HTTP error: the services own their
transactions and refuse with `ServiceError`, and the portal's views turn "not found" into a 404.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import QuerySet

from communications import selectors as comms_selectors
from communications import services as comms
from communications.classifier import classify as comms_classify
from communications.classifier import classify_by_rules
from communications.models import Conversation, Message, Notification
from hvaccrm.models import ServiceJob
from hvaccrm.models.outbox import Target
from hvaccrm.services.outbox import record
from integration import mail
from integration import services as integration

logger = logging.getLogger(__name__)

__all__ = [
    "classify",
    "client_message_send",
    "conversation_for_client",
    "booking_confirmation_record",
    "emergency_booking_record",
    "erasure_notice_record",
    "managers_tell",
    "notification_list",
    "notification_read_all",
    "notification_unread_count",
    "signin_issuer_register",
    "signin_link_record",
]


# --- booking -------------------------------------------------------------------------------------


def classify(text: str) -> dict[str, Any]:
    """Communications' triage classifier, the one for messages and bookings:
    {"urgency", "gas", "safety_instruction"} (the instruction in the text's language, or None).

    If the learned model fails, the classifier's safety rules answer alone: a booking must not
    fail, and a gas smell must stay an emergency, whatever happened to the model file.
    """
    try:
        result = comms_classify(text, neighbours=False)  # the portal shows no reasons
    except Exception:  # any model failure: the rules below still answer, the booking goes on
        logger.warning("triage classifier failed; the safety rules answer alone", exc_info=True)
        result = classify_by_rules(text)
    safety = result.safety_instruction
    return {"urgency": result.urgency, "gas": safety is not None, "safety_instruction": safety}


def emergency_booking_record(*, job: ServiceJob) -> None:
    """The emergency.alert outbox row of an emergency booking, written in the booking's own
    transaction: it commits with the job or not at all, and the emergency worker dispatches it (the
    sweep, if the publish is lost). No after-commit hook: nothing that fails later can skip it."""
    record(source="portal", target=Target.NOTIFICATIONS, kind="emergency.alert", obj=job,
           payload=integration.emergency_booking_payload(job))


def booking_confirmation_record(*, job: ServiceJob, user_id: int) -> None:
    """The confirmation e-mail of a booking, owed through the outbox in the booking's transaction:
    a refusing mail server leaves its row failed for the sweep and touches nothing else."""
    record(source="portal", target=Target.PORTAL, kind="booking.confirmation", obj=job,
           payload={"job": job.pk, "user": user_id})


def signin_link_record(*, user_id: int, purpose: str, created_by_id: int | None) -> None:
    """A sign-in (or invitation) link owed through the outbox in the caller's transaction. The row
    holds the user and the purpose only: the token is issued when the e-mail is sent (see
    integration.mail.signin_link_send_run), so the log never holds one."""
    record(source="portal", target=Target.NOTIFICATIONS, kind="signin_link.send", object_type="auth.user",
           object_id=user_id, payload={"user": user_id, "purpose": purpose, "created_by": created_by_id})


def signin_issuer_register(issuer: mail.SigninIssuer) -> None:
    """The portal's link issuer, called by the sign-in link's outbox handler at each attempt."""
    mail.signin_issuer_register(issuer)


def erasure_notice_record(*, user_id: int, address: str, language: str, title: str, body: str,
                          request_id: int) -> int:
    """The erasure notice: an e-mail delivery (sent and retried by its delivery.send outbox row) to
    the address the client had. Called in the erasure's transaction after the erase, so the erase
    does not blank it; the delivery forgets the address once sent (or given up). Its delivery id."""
    delivery_id, _state = comms.email_notification_create(
        user_id=user_id, kind="portal.erasure_done", title=title, body=body, address=address, language=language,
        dedupe_key=f"portal:erasure-done:{request_id}", send=True, forget_address=True)
    return delivery_id


def managers_tell(*, kind: str, title: str, body: str, related_type: str = "", related_id: str = "",
                  dedupe_key: str | None = None) -> list[int]:
    """Notify the managers through communications' notification engine."""
    try:
        return list(comms.notify_role(role="manager", spec=comms.NotificationSpec(
            kind=kind, title=str(title), body=str(body), related_type=related_type, related_id=related_id,
            dedupe_key=dedupe_key)))
    except Exception:  # the request row is saved and listed in the admin; a lost notice is not data loss
        logger.warning("notify_role(manager) failed for %s", kind, exc_info=True)
        return []


# --- messages and notifications ------------------------------------------------------------------


def _conversations(*, user, client_id: int) -> QuerySet[Conversation]:
    return (comms_selectors.conversation_list_visible(user=user).filter(client_id=client_id)
            .order_by("-last_message_at", "-id"))


def conversation_for_client(*, user, client_id: int, conversation_id: int | None = None,
                            limit: int = 200) -> dict[str, Any]:
    """The client's conversations and the messages of the chosen one (the newest by default).

    A conversation id that is not the client's gives `conversation` None and `found` False.
    """
    conversations = list(_conversations(user=user, client_id=client_id)[:50])
    current = None
    if conversation_id is not None:
        current = next((c for c in conversations if c.pk == conversation_id), None) or \
            _conversations(user=user, client_id=client_id).filter(pk=conversation_id).first()
    elif conversations:
        current = conversations[0]
    thread: list[Message] = []
    if current is not None:
        newest = (comms_selectors.message_list_visible(user=user).filter(conversation_id=current.pk)
                  .order_by("-created_at", "-id")[:limit])
        thread = list(reversed(list(newest)))
    return {"conversations": conversations, "conversation": current, "thread": thread,
            "found": conversation_id is None or current is not None}


def client_message_send(*, user, client_id: int, body: str, conversation_id: int | None = None) -> Message:
    """Send a client's message to the office (communications opens a conversation on the first one)."""
    return comms.client_message_send(author=user, client_id=client_id, body=body, conversation_id=conversation_id)


def notification_unread_count(*, user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return comms_selectors.notification_list_for_user(user=user).filter(read_at__isnull=True).count()


def notification_list(*, user, limit: int = 50) -> list[Notification]:
    return list(comms_selectors.notification_list_for_user(user=user).order_by("-created_at", "-id")[:limit])


def notification_read_all(*, user, limit: int = 500) -> int:
    """Mark the user's unread notifications read, one by one through communications' service."""
    unread = comms_selectors.notification_list_for_user(user=user).filter(read_at__isnull=True)
    ids = list(unread.values_list("pk", flat=True)[:limit])
    for pk in ids:
        comms.notification_read(user=user, notification_id=pk)
    return len(ids)


# --- two-way channels (communications/inbound) ---------------------------------------------------


def channels_state(*, client_id: int) -> dict[str, Any]:
    """The client's Telegram link and reply channel, for the portal's channels page."""
    return {**comms.telegram_link_state(client_id=client_id),
            "reply_channel": comms_selectors.channel_preference_of(client_id=client_id)}


def telegram_link_code_create(*, client_id: int) -> dict[str, Any]:
    """A single-use code to send to the bot as `/start CODE` (shown once)."""
    return comms.telegram_link_code_create(client_id=client_id)


def telegram_unlink(*, client_id: int) -> int:
    return comms.telegram_unlink(client_id=client_id)


def channel_preference_set(*, client_id: int, channel: str) -> str:
    """The channel the office's replies go out on ("" for the one the client last wrote on)."""
    return comms.channel_preference_set(client_id=client_id, channel=channel)
