"""The batching channel layer (hvaccrm/realtime/layer.py) on the real Redis: a fan-out to many
sockets of one process is received whole, in order, once, and nothing popped is lost."""

from __future__ import annotations

import asyncio
import uuid

from django.conf import settings

from hvaccrm.realtime.layer import BatchingRedisChannelLayer


def _layer(**extra) -> BatchingRedisChannelLayer:
    config = dict(settings.CHANNEL_LAYERS["default"]["CONFIG"])
    config["prefix"] = f"batchtest{uuid.uuid4().hex[:8]}"
    config.update(extra)
    return BatchingRedisChannelLayer(**config)


async def _backup_size(layer, real_channel) -> int:
    key = layer.prefix + real_channel
    return await layer.connection(0).zcard(layer._backup_channel_name(key))


def test_the_default_channel_layer_is_the_batching_one():
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"].endswith("BatchingRedisChannelLayer")


async def test_a_fan_out_to_many_local_channels_arrives_whole_in_order_and_once():
    layer = _layer()
    try:
        channels = [await layer.new_channel() for _ in range(40)]
        for n in range(10):
            for channel in channels:
                await layer.send(channel, {"type": "push", "n": n})
        received = {channel: [] for channel in channels}

        async def drain(channel):
            for _ in range(10):
                message = await asyncio.wait_for(layer.receive(channel), timeout=10)
                received[channel].append(message["n"])

        await asyncio.gather(*(drain(channel) for channel in channels))
        assert all(numbers == list(range(10)) for numbers in received.values())
        # Nothing left behind, nothing to be received twice.
        real = layer.non_local_name(channels[0])
        assert await layer.connection(0).zcard(layer.prefix + real) == 0
        # 400 messages came in two batches of 200; the last stays backed up until the next fetch.
        assert await _backup_size(layer, real) == 200
    finally:
        await layer.flush()
        await layer.close_pools()


async def test_a_batch_stays_backed_up_until_every_message_of_it_is_handed_out():
    layer = _layer(receive_batch=50)
    try:
        channel = await layer.new_channel()
        real = layer.non_local_name(channel)
        for n in range(10):
            await layer.send(channel, {"type": "push", "n": n})
        first = await layer.receive_single(real)
        assert first[1]["n"] == 0
        assert await _backup_size(layer, real) == 10  # the whole batch, one handed out
        for n in range(1, 10):
            assert (await layer.receive_single(real))[1]["n"] == n
        await layer.send(channel, {"type": "push", "n": 10})
        assert (await layer.receive_single(real))[1]["n"] == 10
        assert await _backup_size(layer, real) == 1  # the handed-out batch was dropped, only the new one
    finally:
        await layer.flush()
        await layer.close_pools()


async def test_a_receive_cancelled_while_waiting_loses_nothing_sent_afterwards():
    layer = _layer()
    try:
        channel = await layer.new_channel()
        waiting = asyncio.ensure_future(layer.receive(channel))
        await asyncio.sleep(0.2)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        for n in range(3):
            await layer.send(channel, {"type": "push", "n": n})
        got = [(await asyncio.wait_for(layer.receive(channel), timeout=10))["n"] for _ in range(3)]
        assert got == [0, 1, 2]
    finally:
        await layer.flush()
        await layer.close_pools()


async def test_messages_popped_into_the_backup_but_never_handed_out_come_back_first():
    layer = _layer(receive_batch=5)
    try:
        channel = await layer.new_channel()
        real = layer.non_local_name(channel)
        for n in range(5):
            await layer.send(channel, {"type": "push", "n": n})
        assert (await layer.receive_single(real))[1]["n"] == 0
        # The process forgets what it held in memory (as a cancelled receive loop would): the
        # backup still has the batch, and the next fetch puts it back in front of the queue.
        layer._batches.clear()
        layer._batch_done.clear()
        await layer.send(channel, {"type": "push", "n": 5})
        got = [(await layer.receive_single(real))[1]["n"] for _ in range(6)]
        assert got == [0, 1, 2, 3, 4, 5]
    finally:
        await layer.flush()
        await layer.close_pools()
