"""Listening to a group on the real channel layer from a sync test."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer


def events_to_group(group: str, fn: Callable[[], object], *, wait: float = 0.5) -> list[dict]:
    """Run fn (sync, on this thread) while a channel listens to `group`; the events it received."""

    async def run() -> list[dict]:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        try:
            await sync_to_async(fn)()
            out = []
            while True:
                try:
                    message = await asyncio.wait_for(layer.receive(channel), timeout=wait)
                except TimeoutError:
                    return out
                out.append(message["event"])
        finally:
            await layer.group_discard(group, channel)

    return async_to_sync(run)()
