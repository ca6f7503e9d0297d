"""The client's data in this app (RODO): anonymisation."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from communications.models import (
    Conversation,
    Delivery,
    EmergencyAlert,
    Message,
    Notification,
    NotificationPreference,
)
from hvaccrm.models import Client

ERASED = "[usunięto / removed]"


def client_data_anonymise(*, client_id: int) -> int:
    """Erase the personal content of a client's conversations and notifications; rows stay for counts."""
    with transaction.atomic():
        user_ids = list(Client.objects.filter(pk=client_id).values_list("users", flat=True))
        user_ids = [u for u in user_ids if u is not None]
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
    return changed
