from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from hvaccrm.asgi import application
from hvaccrm.realtime import events, groups
from hvaccrm.realtime.tickets import ticket_issue

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


async def _connect(user=None, *, origin=ORIGIN, ticket=None):
    path = "/ws/"
    if ticket is None and user is not None:
        ticket = await sync_to_async(ticket_issue)(user_id=user.pk)
    if ticket:
        path += f"?ticket={ticket}"
    comm = WebsocketCommunicator(application, path, headers=[origin] if origin else [])
    connected, _ = await comm.connect()
    assert connected
    return comm


async def _close_code(comm) -> int:
    message = await comm.receive_output(timeout=3)
    while message["type"] != "websocket.close":
        message = await comm.receive_output(timeout=3)
    return message.get("code")


async def _json(comm) -> dict:
    return json.loads(await comm.receive_from(timeout=3))


async def test_an_anonymous_socket_is_closed_with_4401():
    comm = await _connect(None)
    assert await _close_code(comm) == 4401


async def test_a_foreign_origin_is_closed_with_4403(anna_user):
    comm = await _connect(anna_user, origin=(b"origin", b"https://evil.example"))
    assert await _close_code(comm) == 4403


async def test_a_replayed_ticket_is_refused(anna_user):
    ticket = await sync_to_async(ticket_issue)(user_id=anna_user.pk)
    first = await _connect(ticket=ticket)
    hello = await _json(first)
    assert hello["type"] == "hello" and hello["data"]["user"] == anna_user.pk
    await first.disconnect()
    second = await _connect(ticket=ticket)
    assert await _close_code(second) == 4401


async def test_a_client_joins_their_own_groups_and_may_not_join_another_clients(anna_user, client_bartek):
    comm = await _connect(anna_user)
    hello = await _json(comm)
    anna_client = await sync_to_async(lambda: anna_user.clients.get().pk)()
    assert groups.client_group(anna_client) in hello["data"]["groups"]
    await comm.send_to(text_data=json.dumps({"type": "subscribe", "id": "s1", "data": {"group": groups.client_group(client_bartek.pk)}}))
    reply = await _json(comm)
    assert reply == {"type": "error", "id": "s1", "code": "forbidden", "message": "You may not join this group."}
    await comm.send_to(text_data=json.dumps({"type": "subscribe", "id": "s2", "data": {"group": groups.dispatch_group()}}))
    assert (await _json(comm))["code"] == "forbidden"
    await comm.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "invalid_json"),
        (json.dumps([1, 2]), "invalid"),
        (json.dumps({"type": "no.such.frame", "id": "x"}), "unknown_type"),
        (json.dumps({"type": "subscribe", "id": "y", "data": {}}), "invalid"),
        (json.dumps({"type": "ping", "data": "x"}), "invalid"),
        (json.dumps({"type": "ping", "data": {}, "pad": "x" * 20000}), "too_large"),
    ],
)
async def test_a_bad_frame_is_answered_with_an_error_frame_and_the_socket_stays_open(anna_user, frame, code):
    comm = await _connect(anna_user)
    await _json(comm)  # hello
    await comm.send_to(text_data=frame)
    reply = await _json(comm)
    assert reply["type"] == "error" and reply["code"] == code
    await comm.send_to(text_data=json.dumps({"type": "ping", "id": 7}))
    assert await _json(comm) == {"type": "pong", "id": 7}
    await comm.disconnect()


async def test_too_many_frames_close_the_socket_with_4429(anna_user, settings):
    settings.WS_RATE_LIMIT = 5
    comm = await _connect(anna_user)
    await _json(comm)
    for i in range(6):
        await comm.send_to(text_data=json.dumps({"type": "ping", "id": i}))
    assert await _close_code(comm) == 4429


async def test_a_catalogue_event_reaches_the_sockets_of_its_group(anna_user):
    comm = await _connect(anna_user)
    await _json(comm)
    client_id = await sync_to_async(lambda: anna_user.clients.get().pk)()
    event = events.make_event("job.updated", row_id=42, data={"status": "en_route"})
    await sync_to_async(events.send_now)([groups.client_group(client_id)], event)
    pushed = await _json(comm)
    assert pushed["type"] == "job.updated" and pushed["stream"] == "jobs" and pushed["id"] == 42
    await comm.disconnect()


def test_event_payloads_round_trip_through_json_and_name_their_stream():
    for event_type in events.EVENT_TYPES:
        event = events.make_event(event_type, row_id=1, data={"x": 1})
        assert json.loads(json.dumps(event)) == event
        assert event["stream"] == events.STREAMS[event_type]
    with pytest.raises(TypeError):
        events.make_event("job.updated", row_id=1, data={"bad": object()})
