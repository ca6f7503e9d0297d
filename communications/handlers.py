"""Inbound socket frames owned by communications, and who may join a conversation's group."""

from __future__ import annotations

from rest_framework import serializers

from communications import services
from communications.models import Conversation
from hvaccrm.realtime.groups import register_group_authoriser
from hvaccrm.realtime.registry import register_frame


class MessageSendFrame(serializers.Serializer):
    conversation = serializers.IntegerField(min_value=1)
    body = serializers.CharField(max_length=services.MAX_BODY, trim_whitespace=True)
    latitude = serializers.FloatField(min_value=-90, max_value=90, required=False)
    longitude = serializers.FloatField(min_value=-180, max_value=180, required=False)


class MessageReadFrame(serializers.Serializer):
    message = serializers.IntegerField(min_value=1)


class NotificationAckFrame(serializers.Serializer):
    notification = serializers.IntegerField(min_value=1)


@register_frame("message.send", serializer=MessageSendFrame)
def message_send(*, user, data, connection) -> dict:
    message = services.message_send(author=user, conversation_id=data["conversation"], body=data["body"],
                                    latitude=data.get("latitude"), longitude=data.get("longitude"))
    return {"message": message.pk, "conversation": message.conversation_id, "urgency": message.urgency}


@register_frame("message.read", serializer=MessageReadFrame)
def message_read(*, user, data, connection) -> dict:
    read = services.message_read(user=user, message_id=data["message"])
    return {"message": read.message_id, "read_at": read.read_at.isoformat()}


@register_frame("notification.ack", serializer=NotificationAckFrame)
def notification_ack(*, user, data, connection) -> dict:
    n = services.notification_ack(user=user, notification_id=data["notification"])
    return {"notification": n.pk, "acknowledged_at": n.acknowledged_at.isoformat()}


class AlertAcceptFrame(serializers.Serializer):
    alert = serializers.IntegerField(min_value=1)


class AlertDeclineFrame(serializers.Serializer):
    alert = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(max_length=500, trim_whitespace=True)


@register_frame("alert.accept", serializer=AlertAcceptFrame)
def alert_accept(*, user, data, connection) -> dict:
    """A technician takes an emergency from the app (the same service as the API)."""
    alert = services.alert_accept(alert_id=data["alert"], user=user)
    return {"alert": alert.pk, "state": alert.state, "job": alert.job_id}


@register_frame("alert.decline", serializer=AlertDeclineFrame)
def alert_decline(*, user, data, connection) -> dict:
    response = services.alert_decline(alert_id=data["alert"], user=user, reason=data["reason"])
    return {"alert": response.alert_id, "state": response.state}


class NotificationReceivedFrame(serializers.Serializer):
    notifications = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=100)


@register_frame("notification.received", serializer=NotificationReceivedFrame)
def notification_received(*, user, data, connection) -> dict:
    """The page's receipt for notifications it showed: their in-app deliveries become delivered."""
    count = services.deliveries_in_app_received(user=user, notification_ids=data["notifications"])
    return {"delivered": count}


def conversation_group_allowed(user, group: str) -> bool:
    """`conversation.<id>`: the office all, a client their own, a technician those of their jobs."""
    try:
        conversation_id = int(group.split(".", 1)[1])
    except (IndexError, ValueError):
        return False
    conversation = Conversation.objects.select_related("client", "job").filter(pk=conversation_id).first()
    return conversation is not None and services.conversation_can_access(user=user, conversation=conversation)


register_group_authoriser("conversation", conversation_group_allowed)
