"""The reads of communications: what each user may see, unread counts, the client's data export."""

from __future__ import annotations

from django.db.models import CharField, Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast

from communications.models import (
    AlertResponse,
    ChannelPreference,
    Conversation,
    EmergencyAlert,
    Message,
    MessageRead,
    Notification,
    NotificationPreference,
    TriageCorrection,
)
from communications.services.common import DELIVERY_KIND, DELIVERY_OBJECT
from hvaccrm.models import IntegrationLog, Technician
from hvaccrm.privacy import ERASED
from hvaccrm.realtime.groups import is_staff_role

OFFICE_ROLES = ("dispatcher", "manager", "administrator")


def conversation_list_visible(*, user) -> QuerySet[Conversation]:
    """Office roles: all; a technician: conversations of their jobs; a client: their own."""
    qs = Conversation.objects.select_related("client", "job")
    if not user.is_authenticated:
        return qs.none()
    if is_staff_role(user, *OFFICE_ROLES):
        return qs
    tech = Technician.objects.filter(user_id=user.pk).first()
    mine = Q(client__users=user)
    if tech is not None:
        mine |= Q(job__technician=tech)
    return qs.filter(mine).distinct()


def conversation_list_with_unread(*, user=None) -> QuerySet[Conversation]:
    """Conversations with `unread` = client messages the office has not read yet, newest first."""
    office_read = MessageRead.objects.filter(message=OuterRef("pk"), is_office=True)
    unread_ids = Message.objects.filter(author_role__in=["client", "technician"]).exclude(Exists(office_read))
    qs = conversation_list_visible(user=user) if user is not None else Conversation.objects.select_related("client", "job")
    return qs.annotate(
        unread=Count("messages", filter=Q(messages__in=unread_ids.values("pk")), distinct=True),
        message_count=Count("messages", distinct=True),
    )


def message_list_visible(*, user) -> QuerySet[Message]:
    # The district's slug and name, not its boundary (GeoJSON decoded per message: issue 21).
    return Message.objects.filter(conversation__in=conversation_list_visible(user=user).values("pk")) \
        .select_related("author", "district", "conversation").defer("district__geometry")


def notification_list_for_user(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient_id=user.pk).prefetch_related("deliveries")


def delivery_outbox_state() -> Subquery:
    """For a Delivery queryset's annotate(): the state of the latest outbox row that sends the
    delivery in `OuterRef("pk")` (None for in-app)."""
    return Subquery(
        IntegrationLog.objects.filter(
            target="notifications", kind=DELIVERY_KIND, object_type=DELIVERY_OBJECT,
            object_id=Cast(OuterRef("pk"), output_field=CharField()),
        ).order_by("-id").values("state")[:1]
    )


def alert_list_open() -> QuerySet[EmergencyAlert]:
    """Alerts nobody has taken yet (their chain runs, or ran out), newest first."""
    waiting = [EmergencyAlert.State.OPEN, EmergencyAlert.State.ESCALATED, EmergencyAlert.State.UNANSWERED]
    # Not the district's boundary (kilobytes of GeoJSON to decode per alert): its name and slug.
    return EmergencyAlert.objects.filter(state__in=waiting).select_related("district").defer("district__geometry")


def alert_list_recent(*, hours: int = 24) -> QuerySet[EmergencyAlert]:
    """The office inbox's emergencies: waiting ones and those of the last hours, newest first."""
    from datetime import timedelta

    from django.utils import timezone

    since = timezone.now() - timedelta(hours=hours)
    return (EmergencyAlert.objects.filter(Q(created_at__gte=since) | Q(pk__in=alert_list_open().values("pk")))
            .select_related("district", "accepted_by").defer("district__geometry").order_by("-created_at", "-id"))


def alert_get(*, alert_id: int) -> EmergencyAlert:
    return EmergencyAlert.objects.select_related("district", "message").get(pk=alert_id)


def client_data_export(*, client_id: int) -> dict:
    """Everything this app holds about a client: conversations, messages, notifications, deliveries."""
    conversations = []
    for c in Conversation.objects.filter(client_id=client_id).order_by("id").prefetch_related("messages"):
        conversations.append({
            "id": c.pk, "subject": c.subject, "channel": c.channel, "job": c.job_id,
            "created_at": c.created_at.isoformat(),
            "messages": [{"id": m.pk, "author_role": m.author_role, "body": m.body, "language": m.language,
                          "latitude": m.latitude, "longitude": m.longitude, "urgency": m.urgency,
                          "created_at": m.created_at.isoformat()} for m in c.messages.all()],
        })
    notifications = []
    qs = Notification.objects.filter(recipient__clients__id=client_id).order_by("id").prefetch_related("deliveries")
    for n in qs:
        notifications.append({
            "id": n.pk, "recipient": n.recipient_id, "kind": n.kind, "title": n.title, "body": n.body,
            "created_at": n.created_at.isoformat(), "read_at": n.read_at.isoformat() if n.read_at else None,
            "deliveries": [{"channel": d.channel, "state": d.state, "address": d.address,
                            "sent_at": d.sent_at.isoformat() if d.sent_at else None} for d in n.deliveries.all()],
        })
    responses = [
        {"alert": r.alert_id, "step": r.step_kind, "state": r.state, "reason": r.reason,
         "alerted_at": r.alerted_at.isoformat(), "responded_at": r.responded_at.isoformat() if r.responded_at else None}
        for r in AlertResponse.objects.filter(Q(alert__message__conversation__client_id=client_id)
                                              | Q(alert__job__client_id=client_id)).order_by("alert_id", "step", "id")
    ]
    return {"conversations": conversations, "notifications": notifications, "emergency_responses": responses}


def triage_correction_list_for_client(*, client_id: int) -> list[dict]:
    """A client's messages as the office relabelled them (their text is the client's: RODO export)."""
    qs = TriageCorrection.objects.filter(message__conversation__client_id=client_id).order_by("id")
    return [{"message": c.message_id, "text": c.text, "language": c.language, "urgency_before": c.urgency_before,
             "urgency": c.urgency, "reason": c.reason, "created_at": c.created_at.isoformat()} for c in qs]


def triage_correction_examples() -> list[tuple[str, str, str]]:
    """(urgency, language, text) of the office's corrections for training: the newest correction of
    each message (the office may change its mind), erased texts left out."""
    newest = (TriageCorrection.objects.exclude(text=ERASED).exclude(text="")
              .order_by("message_id", "-created_at", "-id").distinct("message_id"))
    return [(c.urgency, c.language, c.text) for c in newest]


def channel_preference_of(*, client_id: int) -> str:
    """The client's chosen reply channel ("" when they let their last message decide)."""
    return ChannelPreference.objects.filter(client_id=client_id).values_list("channel", flat=True).first() or ""


def emergency_sms_of(*, user_id: int) -> bool:
    """Whether the user takes an SMS with emergencies (on unless they switched it off)."""
    value = NotificationPreference.objects.filter(user_id=user_id).values_list("emergency_sms", flat=True).first()
    return True if value is None else value
