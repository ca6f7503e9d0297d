"""The client's data in communications (RODO): export and erasure, registered with the core's
privacy registry (order 20: first, while the client's users and jobs are still as they were)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q

from communications import selectors
from communications.inbound import privacy as inbound_privacy
from communications.models import (
    AlertResponse,
    Conversation,
    Delivery,
    EmergencyAlert,
    Message,
    MessageRead,
    Notification,
    NotificationPreference,
    TriageCorrection,
)
from hvaccrm.models import Client
from hvaccrm.privacy import ERASED, ErasureContext, register_privacy


def _client_user_ids(client_id: int) -> list[int]:
    user_ids = Client.objects.filter(pk=client_id).values_list("users", flat=True)
    return [u for u in user_ids if u is not None]


def client_data_anonymise(*, client_id: int) -> int:
    """Erase the personal content of a client's conversations and notifications; rows stay for counts."""
    with transaction.atomic():
        user_ids = _client_user_ids(client_id)
        changed = (
            Message.objects.filter(conversation__client_id=client_id)
            .exclude(body=ERASED)
            .update(body=ERASED, latitude=None, longitude=None, classification={})
        )
        changed += Conversation.objects.filter(client_id=client_id).exclude(subject="").update(subject="")
        changed += (
            Notification.objects.filter(recipient_id__in=user_ids)
            .exclude(body=ERASED)
            .update(title=ERASED, body=ERASED, payload={})
        )
        changed += (
            Delivery.objects.filter(notification__recipient_id__in=user_ids).exclude(address="").update(address="")
        )
        changed += (
            NotificationPreference.objects.filter(user_id__in=user_ids)
            .exclude(Q(phone="") & Q(telegram_chat_id=""))
            .update(phone="", telegram_chat_id="")
        )
        changed += (
            EmergencyAlert.objects.filter(Q(message__conversation__client_id=client_id) | Q(job__client_id=client_id))
            .exclude(text=ERASED)
            .update(text=ERASED, latitude=None, longitude=None)
        )
        # The office's urgency corrections copied the client's text (and a reason may quote it):
        # the label stays for the correction counts, the words go and training leaves the row out.
        changed += (
            TriageCorrection.objects.filter(message__conversation__client_id=client_id)
            .exclude(text=ERASED)
            .update(text=ERASED, reason="")
        )
    return changed


def _staff_notifications_scrub(*, alert_ids: list[int], job_ids: list[int], message_ids: list[int]) -> int:
    """Staff and technicians' notifications about this client's alerts, jobs or messages carry the
    client's words (an emergency alert's text, a booking's description): title and body go, the
    row stays for delivery statistics."""
    related = (Q(related_type="communications.emergencyalert", related_id__in=[str(a) for a in alert_ids])
               | Q(related_type="hvaccrm.servicejob", related_id__in=[str(j) for j in job_ids])
               | Q(related_type="communications.message", related_id__in=[str(m) for m in message_ids]))
    return Notification.objects.filter(related).exclude(body=ERASED).update(title=ERASED, body=ERASED, payload={})


def export(*, client: Client) -> dict[str, Any]:
    """Conversations, messages, notifications and deliveries of one client, and the office's
    urgency corrections of their messages (a copy of the client's text with its label)."""
    return {**selectors.client_data_export(client_id=client.pk),
            "triage_corrections": selectors.triage_correction_list_for_client(client_id=client.pk),
            "channels": inbound_privacy.export(client=client)}


def erase(*, client: Client, context: ErasureContext) -> dict[str, int]:
    alerts = EmergencyAlert.objects.filter(Q(message__conversation__client_id=client.pk) | Q(job__client_id=client.pk))
    alert_ids = list(alerts.values_list("pk", flat=True))
    message_ids = list(Message.objects.filter(conversation__client_id=client.pk).values_list("pk", flat=True))
    # The core scrubs the outbox copies of these (message texts and alert positions in payloads).
    context.relate("communications.message", message_ids)
    context.relate("communications.emergencyalert", alert_ids)
    # Before the messages are anonymised: the client's own addresses find their waiting texts.
    changed = inbound_privacy.erase(client=client)
    changed += client_data_anonymise(client_id=client.pk)
    # A decline's reason about this client's emergency may quote or describe them: it goes, the
    # chain's shape (who was alerted, who answered how and when) stays for the response figures.
    changed += AlertResponse.objects.filter(alert_id__in=alert_ids).exclude(reason="").update(reason=ERASED)
    changed += _staff_notifications_scrub(alert_ids=alert_ids, job_ids=context.job_ids, message_ids=message_ids)
    # Read receipts of the client's logins: when the client read what (the office's stay).
    reads = MessageRead.objects.filter(user_id__in=context.user_ids).delete()[0]
    return {"messages": changed, "read_receipts": reads}


register_privacy(
    "communications", order=20, export=export, erase=erase,
    covers=("communications.Conversation", "communications.Message", "communications.MessageRead",
            "communications.Notification", "communications.Delivery", "communications.NotificationPreference",
            "communications.EmergencyAlert", "communications.AlertResponse", "communications.TriageCorrection",
            "communications.ChannelLink", "communications.ChannelPreference", "communications.LinkCode",
            "communications.InboundThread"),
)
