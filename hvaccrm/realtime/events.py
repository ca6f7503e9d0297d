"""The event catalogue: one typed payload per pushed event, and the one helper that sends them.

Every event names its stream and the id of the persisted row it announces; a client that missed
frames asks the API for the rows after the last id it saw. Sending happens after commit only, so
a rolled-back change never leaks a push.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Literal, TypedDict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

EVENT_TYPES = (
    "message.created", "notification.created", "emergency.alert", "location.updated", "job.updated",
    "booking.created", "route.updated", "prophecy.alert",
)  # fmt: skip


class MessageCreated(TypedDict):
    type: Literal["message.created"]
    stream: Literal["messages"]
    id: int
    data: dict[str, Any]


class NotificationCreated(TypedDict):
    type: Literal["notification.created"]
    stream: Literal["notifications"]
    id: int
    data: dict[str, Any]


class EmergencyAlert(TypedDict):
    type: Literal["emergency.alert"]
    stream: Literal["notifications"]
    id: int
    data: dict[str, Any]


class LocationUpdated(TypedDict):
    type: Literal["location.updated"]
    stream: Literal["locations"]
    id: int
    data: dict[str, Any]


class JobUpdated(TypedDict):
    type: Literal["job.updated"]
    stream: Literal["jobs"]
    id: int
    data: dict[str, Any]


class BookingCreated(TypedDict):
    type: Literal["booking.created"]
    stream: Literal["jobs"]
    id: int
    data: dict[str, Any]


class RouteUpdated(TypedDict):
    type: Literal["route.updated"]
    stream: Literal["routes"]
    id: int
    data: dict[str, Any]


class ProphecyAlert(TypedDict):
    type: Literal["prophecy.alert"]
    stream: Literal["predictions"]
    id: int
    data: dict[str, Any]


STREAMS = {
    "message.created": "messages", "notification.created": "notifications", "emergency.alert": "notifications",
    "location.updated": "locations", "job.updated": "jobs", "booking.created": "jobs", "route.updated": "routes",
    "prophecy.alert": "predictions",
}  # fmt: skip


def make_event(event_type: str, *, row_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Build a catalogue event; the JSON round trip fails here on a value that cannot travel."""
    if event_type not in STREAMS:
        raise ValueError(f"unknown event type {event_type!r}")
    event = {"type": event_type, "stream": STREAMS[event_type], "id": int(row_id), "data": data,
             "sent_at": timezone.now().isoformat()}
    return json.loads(json.dumps(event, cls=DjangoJSONEncoder))


def send_now(groups: list[str] | str, event: dict[str, Any]) -> None:
    """Send to groups at once (callers outside a transaction, e.g. after the outbox committed)."""
    layer = get_channel_layer()
    if layer is None:
        return
    for group in [groups] if isinstance(groups, str) else groups:
        try:
            async_to_sync(layer.group_send)(group, {"type": "realtime.push", "event": event})
        except Exception:  # a lost frame is tolerable: the row is saved and the client catches up
            logger.warning("group_send to %s failed", group, exc_info=True)


def emit(groups: list[str] | str, event_type: str, *, row_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Send a catalogue event to groups after the current transaction commits."""
    event = make_event(event_type, row_id=row_id, data=data)
    transaction.on_commit(lambda: send_now(groups, event))
    return event
