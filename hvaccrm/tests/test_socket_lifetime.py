"""A socket that stays open longer than the channel layer's group expiry still hears its groups."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from hvaccrm.realtime import events, groups
from hvaccrm.tests.realtime_helpers import connect, receive_json, receive_until, short_expiry

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_short_expiry_really_drops_a_membership_that_is_not_renewed(settings):
    short_expiry(settings, expiry=2)
    layer = get_channel_layer()
    assert layer.group_expiry == 2
    channel = await layer.new_channel()
    await layer.group_add("expiry-probe", channel)
    await asyncio.sleep(3.2)
    await layer.group_send("expiry-probe", {"type": "probe"})
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(channel), timeout=1)


async def test_a_socket_receives_group_pushes_after_several_group_expiries(settings, anna_user):
    short_expiry(settings, expiry=2, heartbeat=0.5)
    comm = await connect(anna_user)
    hello = await receive_json(comm)
    assert hello["type"] == "hello" and hello["data"]["heartbeat"] == 0.5
    client_id = await sync_to_async(lambda: anna_user.clients.get().pk)()
    received = []
    for round_no in range(4):  # 4 x 2.5 s = five expiries
        await asyncio.sleep(2.5)
        event = events.make_event("job.updated", row_id=100 + round_no, data={"status": "scheduled"})
        await sync_to_async(events.send_now)([groups.client_group(client_id)], event)
        received.append((await receive_until(comm, "job.updated"))["id"])
    assert received == [100, 101, 102, 103]
    await comm.disconnect()


async def test_the_client_sees_a_heartbeat_frame_well_inside_the_expiry(settings, anna_user):
    short_expiry(settings, expiry=3, heartbeat=0.4)
    comm = await connect(anna_user)
    await receive_json(comm)  # hello
    frame = await receive_json(comm, timeout=2)
    assert frame == {"type": "heartbeat"}
    await comm.disconnect()
