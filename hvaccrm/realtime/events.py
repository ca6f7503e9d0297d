"""The event catalogue: the pushed event types, their streams, the one frame type, and the one
helper that sends them.

Every event names its stream and the id of the persisted row it announces; a client that missed
frames asks the API for the rows after the last id it saw. Sending happens after commit only, so
a rolled-back change never leaks a push.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypedDict, TypeVar, cast

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from hvaccrm.realtime import sync_send

T = TypeVar("T")
SEND_CONCURRENCY = 8  # group_sends in flight at once on a layer other than channels-redis
logger = logging.getLogger(__name__)

EVENT_TYPES = (
    "message.created", "notification.created", "emergency.alert", "locations.updated", "job.updated",
    "booking.created", "route.updated", "prophecy.alert", "forecast.updated",
)  # fmt: skip


class Event(TypedDict):
    """Every pushed frame: its type, the stream and id of the saved row it announces, the row's
    data and when it was sent. The data of each type is the sender's `*_data` / `job_payload`.
    `locations.updated` is a batch (coalesce.py): {"locations": [one technician's latest, ...]},
    its id the newest ping's id in it (0 when it holds only private-mode or shift changes)."""

    type: str
    stream: str
    id: int
    data: dict[str, Any]
    sent_at: str


STREAMS = {
    "message.created": "messages", "notification.created": "notifications", "emergency.alert": "notifications",
    "locations.updated": "locations", "job.updated": "jobs", "booking.created": "jobs", "route.updated": "routes",
    "prophecy.alert": "predictions", "forecast.updated": "predictions",
}  # fmt: skip


def make_event(event_type: str, *, row_id: int, data: dict[str, Any]) -> Event:
    """Build a catalogue event; the JSON round trip fails here on a value that cannot travel."""
    if event_type not in STREAMS:
        raise ValueError(f"unknown event type {event_type!r}")
    event = {"type": event_type, "stream": STREAMS[event_type], "id": int(row_id), "data": data,
             "sent_at": timezone.now().isoformat()}
    return cast(Event, json.loads(json.dumps(event, cls=DjangoJSONEncoder)))


def off_loop(func: Callable[[], T]) -> T:
    """Run a blocking `func` here, or from a thread of its own when this thread runs an event loop
    (a commit hook under an async caller, a test beside Playwright's loop): async_to_sync refuses
    there, and a blocking Redis call would stall the loop's other sockets."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return func()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(func).result()


def send_many(pushes: list[tuple[str, Event]]) -> list[bool]:
    """Send each (group, event) at once, as the layer's group_send would; returns, per push,
    whether Redis took it. On channels-redis the whole batch is two synchronous pipelines per
    shard (sync_send); another layer gets one async_to_sync run of bounded concurrent group_sends.
    A lost frame is tolerable: the row is saved and the client catches up."""
    layer = get_channel_layer()
    if layer is None or not pushes:
        return [False] * len(pushes)
    messages = [(group, {"type": "realtime.push", "event": event}) for group, event in pushes]
    if isinstance(layer, RedisChannelLayer) and sync_send.can_send(layer):
        try:
            return off_loop(lambda: sync_send.send_many(layer, messages))
        except Exception:
            logger.warning("pipelined group send of %s pushes failed", len(pushes), exc_info=True)
            return [False] * len(pushes)

    async def send_all() -> list[bool]:
        gate = asyncio.Semaphore(SEND_CONCURRENCY)  # each concurrent send may open a connection

        async def send(group: str, message: dict) -> None:
            async with gate:
                await layer.group_send(group, message)

        results = await asyncio.gather(*(send(g, m) for g, m in messages), return_exceptions=True)
        for (group, _message), result in zip(messages, results, strict=True):
            if isinstance(result, Exception):
                logger.warning("group_send to %s failed: %s", group, result)
        return [not isinstance(result, Exception) for result in results]

    return off_loop(async_to_sync(send_all))


def send_now(groups: list[str] | str, event: Event) -> None:
    """Send to groups at once (callers outside a transaction, e.g. after the outbox committed)."""
    send_many([(group, event) for group in ([groups] if isinstance(groups, str) else groups)])


def emit(groups: list[str] | str, event_type: str, *, row_id: int, data: dict[str, Any]) -> Event:
    """Send a catalogue event to groups after the current transaction commits."""
    event = make_event(event_type, row_id=row_id, data=data)
    transaction.on_commit(lambda: send_now(groups, event))
    return event
