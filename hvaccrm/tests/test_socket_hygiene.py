"""Socket hygiene: the Origin rule for sessions, the per-user cap, and hostile frames that must not kill."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async

from hvaccrm.realtime import presence
from hvaccrm.tests.realtime_helpers import close_code, connect, receive_json

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_session_socket_without_an_origin_is_closed_with_4403(anna_user):
    comm = await connect(origin=None, scope_user=anna_user)
    assert await close_code(comm) == 4403


async def test_a_session_socket_with_a_matching_origin_is_accepted(anna_user):
    comm = await connect(scope_user=anna_user)
    assert (await receive_json(comm))["type"] == "hello"
    await comm.disconnect()


async def test_a_ticket_socket_without_an_origin_is_accepted(anna_user):
    comm = await connect(anna_user, origin=None)
    assert (await receive_json(comm))["type"] == "hello"
    await comm.disconnect()


async def test_one_socket_over_the_per_user_cap_is_closed_with_4409_and_a_closed_one_frees_its_slot(
    settings, anna_user
):
    settings.WS_MAX_SOCKETS_PER_USER = 2
    first, second = await connect(anna_user), await connect(anna_user)
    await receive_json(first)
    await receive_json(second)
    third = await connect(anna_user)
    refused = await receive_json(third)
    assert refused["code"] == "too_many_sockets"
    assert await close_code(third) == 4409
    await first.disconnect()
    fourth = await connect(anna_user)
    assert (await receive_json(fourth))["type"] == "hello"
    await second.disconnect()
    await fourth.disconnect()


async def test_the_slots_of_a_crashed_process_lapse_on_their_own(settings, anna_user):
    settings.WS_MAX_SOCKETS_PER_USER = 1
    settings.WS_HEARTBEAT_SECONDS = 0.5
    settings.CHANNEL_GROUP_EXPIRY = 60
    # A process that died never released this slot; it lapses after a few missed heartbeats.
    assert await presence.socket_claim(user_id=anna_user.pk, channel="dead.process!x", limit=1)
    refused = await connect(anna_user)
    assert await close_code(refused) == 4409
    await asyncio.sleep(presence.slot_seconds() + 0.5)
    comm = await connect(anna_user)
    assert (await receive_json(comm))["type"] == "hello"
    await comm.disconnect()


async def test_presence_knows_which_users_have_an_open_socket(anna_user, bartek_user):
    comm = await connect(anna_user)
    await receive_json(comm)
    open_ = await sync_to_async(presence.users_with_open_sockets)(user_ids=[anna_user.pk, bartek_user.pk])
    assert open_ == {anna_user.pk}
    await comm.disconnect()
    assert await sync_to_async(presence.users_with_open_sockets)(user_ids=[anna_user.pk]) == set()


HOSTILE = [
    ("not JSON", "not json", "invalid_json"),
    ("a JSON array", json.dumps([1, 2]), "invalid"),
    ("an unknown type", json.dumps({"type": "no.such.frame", "id": "x"}), "unknown_type"),
    ("a subscribe without a group", json.dumps({"type": "subscribe", "id": "y", "data": {}}), "invalid"),
    ("data that is not an object", json.dumps({"type": "ping", "data": "x"}), "invalid"),
    ("a frame over the size limit", json.dumps({"type": "ping", "data": {}, "pad": "x" * 20000}), "too_large"),
    ("nested 1,000 deep", "[" * 1000 + "]" * 1000, "too_deep"),
    ("an object nested 1,000 deep", '{"a":' * 1000 + "1" + "}" * 1000, "too_deep"),
    ("a huge integer", '{"type": "ping", "id": ' + "9" * 5000 + "}", "invalid_number"),
    ("an integer past 64 bits", '{"type": "ping", "id": 123456789012345678901}', "invalid_number"),
    ("a float that overflows", '{"type": "ping", "data": {"x": 1e999}}', "invalid_number"),
    ("NaN", '{"type": "ping", "data": {"x": NaN}}', "invalid_number"),
    ("a lone surrogate escape", '{"type": "ping", "data": {"x": "\\ud800"}}', "invalid_utf8"),
    ("a lone surrogate character", '{"type": "ping", "data": {"x": "\ud800"}}', "invalid_utf8"),
    ("a JSON string", json.dumps("hello"), "invalid"),
    ("a JSON number", "42", "invalid"),
    ("JSON null", "null", "invalid"),
]


@pytest.mark.parametrize(("frame", "code"), [(f, c) for _n, f, c in HOSTILE], ids=[n for n, _f, _c in HOSTILE])
async def test_a_hostile_frame_gets_an_error_frame_and_the_socket_lives(anna_user, frame, code):
    comm = await connect(anna_user)
    await receive_json(comm)  # hello
    await comm.send_to(text_data=frame)
    reply = await receive_json(comm)
    assert reply["type"] == "error" and reply["code"] == code
    await comm.send_to(text_data=json.dumps({"type": "ping", "id": 7}))
    assert await receive_json(comm) == {"type": "pong", "id": 7}
    await comm.disconnect()


async def test_a_binary_frame_of_invalid_utf8_gets_an_error_frame_and_the_socket_lives(anna_user):
    comm = await connect(anna_user)
    await receive_json(comm)
    await comm.send_to(bytes_data=b'{"type": "ping", "x": "\xff\xfe"}')
    assert (await receive_json(comm))["code"] == "invalid_utf8"
    await comm.send_to(text_data=json.dumps({"type": "ping", "id": 8}))
    assert await receive_json(comm) == {"type": "pong", "id": 8}
    await comm.disconnect()
