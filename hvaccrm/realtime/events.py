"""The event catalogue: the pushed event types, their streams, the one frame type, and the one
helper that sends them.

Every event names its stream and the id of the persisted row it announces; a client that missed
frames asks the API for the rows after the last id it saw. Sending happens after commit only, so
a rolled-back change never leaks a push.
"""

from __future__ import annotations

import json
import logging
from typing import Any, TypedDict, cast

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

EVENT_TYPES = (
    "message.created", "notification.created", "emergency.alert", "location.updated", "job.updated",
    "booking.created", "route.updated", "prophecy.alert", "forecast.updated",
)  # fmt: skip


class Event(TypedDict):
    """Every pushed frame: its type, the stream and id of the saved row it announces, the row's
    data and when it was sent. The data of each type is the sender's `*_data` / `job_payload`."""

    type: str
    stream: str
    id: int
    data: dict[str, Any]
    sent_at: str


STREAMS = {
    "message.created": "messages", "notification.created": "notifications", "emergency.alert": "notifications",
    "location.updated": "locations", "job.updated": "jobs", "booking.created": "jobs", "route.updated": "routes",
    "prophecy.alert": "predictions", "forecast.updated": "predictions",
}  # fmt: skip


def make_event(event_type: str, *, row_id: int, data: dict[str, Any]) -> Event:
    """Build a catalogue event; the JSON round trip fails here on a value that cannot travel."""
    if event_type not in STREAMS:
        raise ValueError(f"unknown event type {event_type!r}")
    event = {"type": event_type, "stream": STREAMS[event_type], "id": int(row_id), "data": data,
             "sent_at": timezone.now().isoformat()}
    return cast(Event, json.loads(json.dumps(event, cls=DjangoJSONEncoder)))


def send_now(groups: list[str] | str, event: Event) -> None:
    """Send to groups at once (callers outside a transaction, e.g. after the outbox committed)."""
    layer = get_channel_layer()
    if layer is None:
        return
    for group in [groups] if isinstance(groups, str) else groups:
        try:
            async_to_sync(layer.group_send)(group, {"type": "realtime.push", "event": event})
        except Exception:  # a lost frame is tolerable: the row is saved and the client catches up
            logger.warning("group_send to %s failed", group, exc_info=True)


def emit(groups: list[str] | str, event_type: str, *, row_id: int, data: dict[str, Any]) -> Event:
    """Send a catalogue event to groups after the current transaction commits."""
    event = make_event(event_type, row_id=row_id, data=data)
    transaction.on_commit(lambda: send_now(groups, event))
    return event
