"""The synchronous group send (hvaccrm/realtime/sync_send.py) on the real Redis: what it writes is
what channels-redis's own group_send writes, and a consumer receives it unchanged."""

from __future__ import annotations

import asyncio
import uuid

from asgiref.sync import sync_to_async
from django.conf import settings

from hvaccrm.realtime import sync_send
from hvaccrm.realtime.layer import BatchingRedisChannelLayer


def _layer() -> BatchingRedisChannelLayer:
    config = dict(settings.CHANNEL_LAYERS["default"]["CONFIG"])
    config["prefix"] = f"syncsend{uuid.uuid4().hex[:8]}"
    return BatchingRedisChannelLayer(**config)


async def test_a_synchronous_batch_reaches_the_group_members_as_group_send_would():
    layer = _layer()
    try:
        ours, theirs, local = await layer.new_channel(), await layer.new_channel(), await layer.new_channel("plain.")
        await layer.group_add("ours", ours)
        await layer.group_add("ours", local)
        await layer.group_add("theirs", theirs)
        message = {"type": "realtime.push", "event": {"id": 7, "data": {"text": "zażółć"}}}
        taken = await sync_to_async(sync_send.send_many)(layer, [("ours", message), ("empty", message)])
        await layer.group_send("theirs", message)

        ttl = await layer.connection(0).ttl(layer.prefix + layer.non_local_name(ours))
        assert taken == [True, True]
        assert 0 < ttl <= layer.expiry
        assert await asyncio.wait_for(layer.receive(ours), 5) == message
        assert await asyncio.wait_for(layer.receive(theirs), 5) == message
        assert await asyncio.wait_for(layer.receive(local), 5) == message
    finally:
        await layer.flush()


async def test_a_process_channel_at_its_capacity_drops_the_synchronous_push_like_group_send():
    layer = _layer()
    layer.capacity = 1
    layer.channel_capacity = []
    try:
        channel = await layer.new_channel()
        await layer.group_add("full", channel)
        first, second = ({"type": "realtime.push", "n": n} for n in (1, 2))
        await sync_to_async(sync_send.send_many)(layer, [("full", first)])
        await sync_to_async(sync_send.send_many)(layer, [("full", second)])

        assert await asyncio.wait_for(layer.receive(channel), 5) == first
        assert await layer.connection(0).zcard(layer.prefix + layer.non_local_name(channel)) == 0
    finally:
        await layer.flush()
