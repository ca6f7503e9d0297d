"""The one WebSocket consumer: it authenticates, authorises, validates and relays. Nothing else.

Frames in:  {"type": "<frame type>", "id": "<client correlation id>", "data": {...}}
Frames out: catalogue events (see events.py), {"type": "ack", "id": ..., "data": {...}} and
            {"type": "error", "id": ..., "code": ..., "message": ..., "errors": {...}}.
Close codes: 4401 not authenticated, 4403 forbidden (Origin), 4429 too many frames.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.http.request import validate_host

from hvaccrm.errors import ServiceError
from hvaccrm.realtime import groups as g
from hvaccrm.realtime.registry import frame_type
from hvaccrm.realtime.tickets import ticket_redeem

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_RATE = 4429


@dataclass
class Connection:
    """What a frame handler may know about the socket that sent the frame."""

    user: object
    groups: set[str] = field(default_factory=set)
    technician_id: int | None = None


def origin_allowed(origin: str | None) -> bool:
    if origin is None:
        return True  # not a browser; such clients must authenticate with a ticket
    host = urlparse(origin).hostname or ""
    allowed = list(settings.ALLOWED_HOSTS) + [urlparse(o).hostname or "" for o in settings.CSRF_TRUSTED_ORIGINS]
    return bool(host) and validate_host(host, allowed)


class RealtimeConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        headers = dict(self.scope.get("headers") or [])
        origin = headers.get(b"origin")
        origin = origin.decode("latin-1") if origin else None
        await self.accept()
        if not origin_allowed(origin):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        user = await self._authenticate(browser=origin is not None)
        if user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.window_start = time.monotonic()
        self.frames_in_window = 0
        self.conn = await database_sync_to_async(self._connection_for)(user)
        for group in self.conn.groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self._send_json({"type": "hello", "data": {"user": user.pk, "groups": sorted(self.conn.groups)}})

    async def _authenticate(self, *, browser: bool):
        query = parse_qs((self.scope.get("query_string") or b"").decode("latin-1"))
        ticket = (query.get("ticket") or [""])[0]
        if ticket:
            user_id = await database_sync_to_async(ticket_redeem)(ticket=ticket)
            if user_id is None:
                return None
            return await database_sync_to_async(self._active_user)(user_id)
        user = self.scope.get("user")
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None

    @staticmethod
    def _active_user(user_id: int):
        return get_user_model().objects.filter(pk=user_id, is_active=True).first()

    @staticmethod
    def _connection_for(user) -> Connection:
        tech = getattr(user, "technician", None) if hasattr(user, "technician") else None
        return Connection(user=user, groups=set(g.default_groups(user)), technician_id=tech.pk if tech else None)

    async def disconnect(self, code: int) -> None:
        conn = getattr(self, "conn", None)
        if conn is None:
            return
        for group in conn.groups:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if getattr(self, "conn", None) is None:
            return
        if not self._within_rate():
            await self._send_json({"type": "error", "code": "rate_limited", "message": "Too many frames."})
            await self.close(code=CLOSE_RATE)
            return
        if bytes_data is not None or text_data is None:
            await self._error(None, "invalid", "Only JSON text frames are accepted.")
            return
        if len(text_data.encode("utf-8")) > settings.WS_MAX_FRAME_BYTES:
            await self._error(None, "too_large", f"Frames are limited to {settings.WS_MAX_FRAME_BYTES} bytes.")
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self._error(None, "invalid_json", "The frame is not valid JSON.")
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self._error(None, "invalid", "A frame is an object with a string 'type'.")
            return
        frame_id = frame.get("id")
        if frame_id is not None and (not isinstance(frame_id, str | int) or len(str(frame_id)) > 64):
            await self._error(None, "invalid", "'id' must be a short string or number.")
            return
        data = frame.get("data", {})
        if not isinstance(data, dict):
            await self._error(frame_id, "invalid", "'data' must be an object.")
            return
        kind = frame["type"]
        if kind == "ping":
            await self._send_json({"type": "pong", "id": frame_id})
        elif kind in ("subscribe", "unsubscribe"):
            await self._subscription(kind, frame_id, data)
        else:
            await self._dispatch(kind, frame_id, data)

    def _within_rate(self) -> bool:
        now = time.monotonic()
        if now - self.window_start > settings.WS_RATE_WINDOW:
            self.window_start, self.frames_in_window = now, 0
        self.frames_in_window += 1
        return self.frames_in_window <= settings.WS_RATE_LIMIT

    async def _subscription(self, kind: str, frame_id, data: dict) -> None:
        group = data.get("group")
        if not isinstance(group, str) or not group or len(group) > 90:
            await self._error(frame_id, "invalid", "'group' is required.", {"group": ["This field is required."]})
            return
        if kind == "unsubscribe":
            self.conn.groups.discard(group)
            await self.channel_layer.group_discard(group, self.channel_name)
            await self._send_json({"type": "ack", "id": frame_id, "data": {"group": group}})
            return
        allowed = await database_sync_to_async(g.user_can_join)(self.user, group)
        if not allowed:
            await self._error(frame_id, "forbidden", "You may not join this group.")
            return
        self.conn.groups.add(group)
        await self.channel_layer.group_add(group, self.channel_name)
        await self._send_json({"type": "ack", "id": frame_id, "data": {"group": group}})

    async def _dispatch(self, kind: str, frame_id, data: dict) -> None:
        ft = frame_type(kind)
        if ft is None:
            await self._error(frame_id, "unknown_type", f"Unknown frame type {kind!r}.")
            return
        try:
            reply = await database_sync_to_async(self._run_handler)(ft, data)
        except ServiceError as exc:
            await self._error(frame_id, exc.code, exc.message, exc.fields)
            return
        except _Invalid as exc:
            await self._error(frame_id, "invalid", "The frame's data is not valid.", exc.errors)
            return
        except Exception:
            logger.exception("frame handler %s failed", kind)
            await self._error(frame_id, "server_error", "The frame could not be processed.")
            return
        await self._send_json({"type": "ack", "id": frame_id, "data": reply or {}})

    def _run_handler(self, ft, data: dict):
        if ft.allow is not None and not ft.allow(self.user):
            raise ServiceError("You may not send this frame.", code="forbidden", status_code=403)
        serializer = ft.serializer(data=data)
        if not serializer.is_valid():
            raise _Invalid(serializer.errors)
        return ft.handler(user=self.user, data=serializer.validated_data, connection=self.conn)

    async def _error(self, frame_id, code: str, message: str, errors: dict | None = None) -> None:
        body = {"type": "error", "id": frame_id, "code": code, "message": str(message)}
        if errors:
            body["errors"] = json.loads(json.dumps(errors, default=str))
        await self._send_json(body)

    async def _send_json(self, body: dict) -> None:
        await self.send(text_data=json.dumps(body, default=str))

    async def realtime_push(self, message: dict) -> None:
        """A catalogue event from group_send: relay it as it is."""
        await self._send_json(message["event"])


class _Invalid(Exception):
    def __init__(self, errors) -> None:
        super().__init__("invalid frame")
        self.errors = errors
