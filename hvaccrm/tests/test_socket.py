from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async

from hvaccrm.realtime import events, groups
from hvaccrm.realtime.tickets import ticket_issue
from hvaccrm.tests.realtime_helpers import close_code, connect, receive_json

pytestmark = pytest.mark.django_db(transaction=True)


async def test_an_anonymous_socket_is_closed_with_4401():
    comm = await connect(None)
    assert await close_code(comm) == 4401


async def test_a_foreign_origin_is_closed_with_4403(anna_user):
    comm = await connect(anna_user, origin=(b"origin", b"https://evil.example"))
    assert await close_code(comm) == 4403


async def test_a_replayed_ticket_is_refused(anna_user):
    ticket = await sync_to_async(ticket_issue)(user_id=anna_user.pk)
    first = await connect(ticket=ticket)
    hello = await receive_json(first)
    assert hello["type"] == "hello" and hello["data"]["user"] == anna_user.pk
    await first.disconnect()
    second = await connect(ticket=ticket)
    assert await close_code(second) == 4401


async def test_a_client_joins_their_own_groups_and_may_not_join_another_clients(anna_user, client_bartek):
    comm = await connect(anna_user)
    hello = await receive_json(comm)
    anna_client = await sync_to_async(lambda: anna_user.clients.get().pk)()
    assert groups.client_group(anna_client) in hello["data"]["groups"]
    await comm.send_to(text_data=json.dumps({"type": "subscribe", "id": "s1", "data": {"group": groups.client_group(client_bartek.pk)}}))
    reply = await receive_json(comm)
    assert reply == {"type": "error", "id": "s1", "code": "forbidden", "message": "You may not join this group."}
    await comm.send_to(text_data=json.dumps({"type": "subscribe", "id": "s2", "data": {"group": groups.dispatch_group()}}))
    assert (await receive_json(comm))["code"] == "forbidden"
    await comm.disconnect()


async def test_too_many_frames_close_the_socket_with_4429(anna_user, settings):
    settings.WS_RATE_LIMIT = 5
    comm = await connect(anna_user)
    await receive_json(comm)
    for i in range(6):
        await comm.send_to(text_data=json.dumps({"type": "ping", "id": i}))
    assert await close_code(comm) == 4429


async def test_a_catalogue_event_reaches_the_sockets_of_its_group(anna_user):
    comm = await connect(anna_user)
    await receive_json(comm)
    client_id = await sync_to_async(lambda: anna_user.clients.get().pk)()
    event = events.make_event("job.updated", row_id=42, data={"status": "en_route"})
    await sync_to_async(events.send_now)([groups.client_group(client_id)], event)
    pushed = await receive_json(comm)
    assert pushed["type"] == "job.updated" and pushed["stream"] == "jobs" and pushed["id"] == 42
    await comm.disconnect()


def test_event_payloads_round_trip_through_json_and_name_their_stream():
    for event_type in events.EVENT_TYPES:
        event = events.make_event(event_type, row_id=1, data={"x": 1})
        assert json.loads(json.dumps(event)) == event
        assert event["stream"] == events.STREAMS[event_type]
    with pytest.raises(TypeError):
        events.make_event("job.updated", row_id=1, data={"bad": object()})
