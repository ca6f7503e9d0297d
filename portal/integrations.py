"""The portal's calls into the other subsystems (it is the only app allowed to make them).

Each call goes through the contract names in docs. A missing function is an error, never a silent
skip: an erasure that quietly left a subsystem's data behind would break the client's rights.
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any

logger = logging.getLogger(__name__)


def _function(module: str, name: str):
    return getattr(import_module(module), name)


def communications_export(*, client_id: int) -> dict[str, Any]:
    fn = _function("communications.selectors", "client_data_export")
    return fn(client_id=client_id)


def communications_anonymise(*, client_id: int) -> int | None:
    fn = _function("communications.services", "client_data_anonymise")
    return fn(client_id=client_id)


def managers_tell(*, kind: str, title: str, body: str, related_type: str = "", related_id: str = "",
                  dedupe_key: str | None = None) -> list[int]:
    """Notify the managers through communications' notification engine (nothing if it is absent)."""
    fn = _function("communications.services", "notify_role")
    try:
        return fn(role="manager", kind=kind, title=str(title), body=str(body), related_type=related_type,
                  related_id=related_id, dedupe_key=dedupe_key)
    except Exception:  # the request row is saved and listed in the admin; a lost notice is not data loss
        logger.warning("notify_role(manager) failed for %s", kind, exc_info=True)
        return []


def communications_notifications_scrub(*, client_id: int, job_ids: list[int], message_ids: list[int]) -> int:
    """Staff and technicians' notifications about this client's alerts, jobs or messages carry the
    client's words (an emergency alert's text, a booking's description). communications'
    client_data_anonymise covers the client's own notifications only; until it covers these too,
    the erasure clears them here (title and body; the row stays for delivery statistics)."""
    models = import_module("communications.models")
    from django.db.models import Q

    alerts = list(models.EmergencyAlert.objects.filter(
        Q(message__conversation__client_id=client_id) | Q(job__client_id=client_id)).values_list("pk", flat=True))
    related = (Q(related_type="communications.emergencyalert", related_id__in=[str(a) for a in alerts])
               | Q(related_type="hvaccrm.servicejob", related_id__in=[str(j) for j in job_ids])
               | Q(related_type="communications.message", related_id__in=[str(m) for m in message_ids]))
    marker = getattr(import_module("communications.services"), "ERASED", "[erased]")
    return models.Notification.objects.filter(related).exclude(body=marker).update(title=marker, body=marker, payload={})


def vectors_erase(*, client_id: int) -> int | None:
    fn = _function("prophecy.services", "vectors_erase_for_client")
    return fn(client_id=client_id)


def emergency_dispatch(*, job_id: int, district_slug: str | None, text: str) -> dict | None:
    """Route an emergency booking to on-shift technicians at once (communications' alert engine)."""
    fn = _function("communications.services", "emergency_dispatch")
    return fn(message_id=None, job_id=job_id, district_slug=district_slug, text=text,
              dedupe_key=f"portal:booking:{job_id}:emergency")


def classify(text: str) -> dict[str, Any] | None:
    """Communications' text classifier when present: {"urgency", "gas", "safety_instruction"}, else None."""
    fn = _function("communications.classifier", "classify")
    try:
        result = fn(text)
    except Exception:  # a classifier bug must not stop a booking; the portal's keyword check runs instead
        logger.warning("communications classifier failed", exc_info=True)
        return None
    safety = getattr(result, "safety_instruction", None)
    return {"urgency": getattr(result, "urgency", "normal"), "gas": safety is not None, "safety_instruction": safety}


# --- messages and notifications (communications' services and selectors) ------------------------


def messaging_available() -> bool:
    return _function("communications.services", "message_send") is not None


def notification_unread_count(*, user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    fn = _function("communications.selectors", "notification_list_for_user")
    return fn(user=user).filter(read_at__isnull=True).count()


def notification_list(*, user, limit: int = 50) -> list:
    fn = _function("communications.selectors", "notification_list_for_user")
    return list(fn(user=user).order_by("-created_at", "-id")[:limit])


def notification_read_all(*, user, limit: int = 500) -> int:
    """Mark the user's unread notifications read, one by one through communications' service."""
    lister = _function("communications.selectors", "notification_list_for_user")
    reader = _function("communications.services", "notification_read")
    ids = list(lister(user=user).filter(read_at__isnull=True).values_list("pk", flat=True)[:limit])
    for pk in ids:
        reader(user=user, notification_id=pk)
    return len(ids)


def _conversations(*, user, client_id: int):
    fn = _function("communications.selectors", "conversation_list_visible")
    return fn(user=user).filter(client_id=client_id).order_by("-last_message_at", "-id")


def conversation_for_client(*, user, client_id: int, conversation_id: int | None = None, limit: int = 200) -> dict:
    """The client's conversations and the messages of the chosen one (the newest by default).
    A conversation id that is not the client's raises Http404."""
    from django.http import Http404

    conversations = list(_conversations(user=user, client_id=client_id)[:50])
    current = None
    if conversation_id is not None:
        current = next((c for c in conversations if c.pk == conversation_id), None) or \
            _conversations(user=user, client_id=client_id).filter(pk=conversation_id).first()
        if current is None:
            raise Http404
    elif conversations:
        current = conversations[0]
    messages = []
    if current is not None:
        lister = _function("communications.selectors", "message_list_visible")
        messages = list(lister(user=user).filter(conversation_id=current.pk).order_by("-created_at", "-id")[:limit])
        messages.reverse()
    return {"conversations": conversations, "conversation": current, "thread": messages}


def message_send(*, user, client_id: int, body: str, conversation_id: int | None = None):
    """Send a client's message to the office, opening a conversation on the first one."""
    from django.db import transaction
    from django.http import Http404

    services = import_module("communications.services")
    with transaction.atomic():
        if conversation_id is None:
            conversation = _conversations(user=user, client_id=client_id).first()
            if conversation is None:
                conversation = services.conversation_start(author=user, client_id=client_id)
            conversation_id = conversation.pk
        elif not _conversations(user=user, client_id=client_id).filter(pk=conversation_id).exists():
            raise Http404
        return services.message_send(author=user, conversation_id=conversation_id, body=body)
