"""Shared plumbing of the socket tests: connect through the real ASGI app and Redis channel layer."""

from __future__ import annotations

import asyncio
import copy
import json

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from hvaccrm.asgi import application
from hvaccrm.realtime.tickets import ticket_issue

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


async def connect(user=None, *, origin=ORIGIN, ticket=None, scope_user=None) -> WebsocketCommunicator:
    """A socket opened with a ticket for `user` (or a given ticket), or with a session user in scope."""
    path = "/ws/"
    if ticket is None and user is not None:
        ticket = await sync_to_async(ticket_issue)(user_id=user.pk)
    if ticket:
        path += f"?ticket={ticket}"
    comm = WebsocketCommunicator(application, path, headers=[origin] if origin else [])
    if scope_user is not None:
        comm.scope["user"] = scope_user
    connected, _ = await comm.connect()
    assert connected
    return comm


async def close_code(comm, timeout: float = 5) -> int:
    message = await comm.receive_output(timeout=timeout)
    while message["type"] != "websocket.close":
        message = await comm.receive_output(timeout=timeout)
    return message.get("code")


async def receive_json(comm, timeout: float = 3) -> dict:
    return json.loads(await comm.receive_from(timeout=timeout))


async def receive_until(comm, kind: str, timeout: float = 5) -> dict:
    """The next frame of type `kind`, skipping heartbeats and other frames."""
    while True:
        frame = await receive_json(comm, timeout=timeout)
        if frame.get("type") == kind:
            return frame


async def frames_within(comm, seconds: float) -> list[dict]:
    """Every frame that arrives within `seconds` (a timed-out receive would cancel the consumer)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    frames = []
    while (left := deadline - loop.time()) > 0:
        if not await comm.receive_nothing(timeout=left):
            frames.append(await receive_json(comm))
    return frames


def short_expiry(settings, *, expiry: int = 2, heartbeat: float = 0.5) -> None:
    """The real Redis layer with a group expiry of `expiry` seconds (channels resets its layers)."""
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"]["CONFIG"]["group_expiry"] = expiry
    settings.CHANNEL_LAYERS = layers
    settings.CHANNEL_GROUP_EXPIRY = expiry
    settings.WS_HEARTBEAT_SECONDS = heartbeat
