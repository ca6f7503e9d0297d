"""The one WebSocket consumer: it authenticates, authorises, validates and relays. Nothing else.

Frames in:  {"type": "<frame type>", "id": "<client correlation id>", "data": {...}}
Frames out: catalogue events (see events.py), {"type": "ack", "id": ..., "data": {...}},
            {"type": "error", "id": ..., "code": ..., "message": ..., "errors": {...}},
            {"type": "heartbeat"} every WS_HEARTBEAT_SECONDS and {"type": "rights.changed", ...}.
Close codes: 4000 closed by the server (reconnect), 4401 not authenticated (or deactivated while
connected), 4403 forbidden (a foreign Origin, or a session cookie without an Origin), 4409 too many
sockets for this user, 4429 too many frames.

A socket lives all day: every heartbeat re-joins its groups (channels-redis drops a membership
CHANNEL_GROUP_EXPIRY seconds after it was last added) and renews its slot in the per-user count
(presence.py). Rights are re-checked while connected: a `rights.changed` control message to the
user's group (control.py) makes each socket drop the groups it may no longer hear.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.http.request import validate_host

from hvaccrm import metrics
from hvaccrm.errors import ServiceError
from hvaccrm.realtime import groups as g
from hvaccrm.realtime import presence
from hvaccrm.realtime.registry import frame_type
from hvaccrm.realtime.socket_db import socket_db as database_sync_to_async
from hvaccrm.realtime.tickets import ticket_redeem

logger = logging.getLogger(__name__)

CLOSE_GOING_AWAY = 4000  # closed by the server; reconnect
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_MANY_SOCKETS = 4409
CLOSE_RATE = 4429

MAX_FRAME_DEPTH = 16  # objects/arrays nested deeper than any frame of ours needs
MAX_INT_DIGITS = 18  # fits a bigint; longer numbers are refused before they reach a serializer


@dataclass
class Connection:
    """What a frame handler may know about the socket that sent the frame."""

    user: object
    groups: set[str] = field(default_factory=set)
    technician_id: int | None = None


def origin_allowed(origin: str | None) -> bool:
    if origin is None:
        return True  # not a browser: allowed here, but such a client must bring a ticket
    host = urlparse(origin).hostname or ""
    allowed = list(settings.ALLOWED_HOSTS) + [urlparse(o).hostname or "" for o in settings.CSRF_TRUSTED_ORIGINS]
    return bool(host) and validate_host(host, allowed)


class _BadFrame(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _BadFrame("invalid_number", f"Numbers are limited to {MAX_INT_DIGITS} digits.")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _BadFrame("invalid_number", "Numbers must be finite.")
    return value


def _parse_constant(text: str):
    raise _BadFrame("invalid_number", "NaN and Infinity are not JSON.")


def _nesting_depth(text: str) -> int:
    """The deepest bracket nesting outside strings, without recursion (json.loads recurses)."""
    if text.count("[") + text.count("{") <= MAX_FRAME_DEPTH:
        return 0  # cannot be too deep: the common case costs two C-level counts
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _strings_encodable(value) -> bool:
    """False when a string holds a lone surrogate ("\\ud800"): it is not UTF-8 and would fail later."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def parse_frame(text_data: str | None, bytes_data: bytes | None):
    """The frame's JSON value, or _BadFrame with the error code to answer with (never another error)."""
    if text_data is None:
        if bytes_data is not None:
            try:
                bytes_data.decode("utf-8")
            except UnicodeDecodeError:
                raise _BadFrame("invalid_utf8", "The frame is not valid UTF-8.") from None
        raise _BadFrame("invalid", "Only JSON text frames are accepted.")
    try:
        size = len(text_data.encode("utf-8"))
    except UnicodeEncodeError:
        raise _BadFrame("invalid_utf8", "The frame is not valid UTF-8.") from None
    if size > settings.WS_MAX_FRAME_BYTES:
        raise _BadFrame("too_large", f"Frames are limited to {settings.WS_MAX_FRAME_BYTES} bytes.")
    if _nesting_depth(text_data) > MAX_FRAME_DEPTH:
        raise _BadFrame("too_deep", f"Frames may nest at most {MAX_FRAME_DEPTH} levels.")
    try:
        value = json.loads(text_data, parse_int=_parse_int, parse_float=_parse_float,
                           parse_constant=_parse_constant)
    except _BadFrame:
        raise
    except (ValueError, RecursionError):
        raise _BadFrame("invalid_json", "The frame is not valid JSON.") from None
    if not _strings_encodable(value):
        raise _BadFrame("invalid_utf8", "The frame is not valid UTF-8.")
    return value


class RealtimeConsumer(AsyncWebsocketConsumer):
    # Messages whose handlers touch the database only through database_sync_to_async, which closes
    # old connections itself, before and after, on the socket's thread. For every other message
    # channels (4.2+) runs close_old_connections first, in that thread: one more thread hop for each
    # position frame and each push to an office socket, the two messages of the fleet's traffic.
    NO_CONNECTION_CLEANUP = frozenset({"websocket.receive", "realtime.push"})

    async def dispatch(self, message: dict) -> None:
        if message["type"] in self.NO_CONNECTION_CLEANUP:
            await getattr(self, get_handler_name(message))(message)
            return
        await super().dispatch(message)

    async def connect(self) -> None:
        headers = dict(self.scope.get("headers") or [])
        origin = headers.get(b"origin")
        origin = origin.decode("latin-1") if origin else None
        await self.accept()
        if not origin_allowed(origin):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        ticket = (parse_qs((self.scope.get("query_string") or b"").decode("latin-1")).get("ticket") or [""])[0]
        if not ticket and origin is None:
            # A session cookie without an Origin is not a browser's same-site socket: it may be a
            # cross-site request that stripped the header. Non-browser clients bring a ticket.
            await self.close(code=CLOSE_FORBIDDEN)
            return
        user = await self._authenticate(ticket=ticket)
        if user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not await presence.socket_claim(user_id=user.pk, channel=self.channel_name,
                                           limit=settings.WS_MAX_SOCKETS_PER_USER):
            await self._error(None, "too_many_sockets",
                              f"At most {settings.WS_MAX_SOCKETS_PER_USER} sockets per user are open.")
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return
        self.user = user
        self.window_start = time.monotonic()
        self.frames_in_window = 0
        self.conn = await database_sync_to_async(self._connection_for)(user)
        for group in self.conn.groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.heartbeat = asyncio.ensure_future(self._heartbeat())
        metrics.socket_connection(accepted=True)
        await self._send_json({"type": "hello", "data": {"user": user.pk, "groups": sorted(self.conn.groups),
                                                         "heartbeat": presence.heartbeat_seconds()}})

    async def _authenticate(self, *, ticket: str):
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

    async def _heartbeat(self) -> None:
        """Renew the groups and the socket's slot, and show the page that the socket is alive."""
        while True:
            await asyncio.sleep(presence.heartbeat_seconds())
            try:
                for group in list(self.conn.groups):
                    await self.channel_layer.group_add(group, self.channel_name)
                await presence.socket_renew(user_id=self.user.pk, channel=self.channel_name)
            except Exception:  # Redis hiccup: the next beat tries again, well inside the expiry
                logger.warning("heartbeat renewal failed for %s", self.channel_name, exc_info=True)
                continue
            await self._send_json({"type": "heartbeat"})

    async def disconnect(self, code: int) -> None:
        conn = getattr(self, "conn", None)
        metrics.socket_closed(accepted=conn is not None)
        if conn is None:
            return
        heartbeat = getattr(self, "heartbeat", None)
        if heartbeat is not None:
            heartbeat.cancel()
        for group in conn.groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        await presence.socket_release(user_id=self.user.pk, channel=self.channel_name)

    async def rights_changed(self, message: dict) -> None:
        """The user's rights changed (control.py): keep only the groups still allowed."""
        if getattr(self, "conn", None) is None:
            return
        user, keep, gained = await database_sync_to_async(self._rights_now)()
        if user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        removed = self.conn.groups - keep
        for group in removed:
            await self.channel_layer.group_discard(group, self.channel_name)
        for group in gained:
            await self.channel_layer.group_add(group, self.channel_name)
        self.user = user
        self.conn.user = user
        self.conn.groups = keep | gained
        tech = await database_sync_to_async(lambda: getattr(user, "technician", None))()
        self.conn.technician_id = tech.pk if tech is not None else None
        await self._send_json({"type": "rights.changed",
                               "data": {"groups": sorted(self.conn.groups), "removed": sorted(removed)}})

    async def realtime_close(self, message: dict) -> None:
        """Close this socket from the server (an operator's "sign out everywhere", a test of the
        client's reconnect); the page reconnects unless the code says it must not."""
        await self.close(code=int(message.get("code") or CLOSE_GOING_AWAY))

    def _rights_now(self):
        """(fresh user or None if gone/inactive, groups still allowed, default groups newly granted)."""
        user = get_user_model().objects.filter(pk=self.user.pk, is_active=True).first()
        if user is None:
            return None, set(), set()
        keep = {group for group in self.conn.groups if g.user_can_join(user, group)}
        gained = set(g.default_groups(user)) - keep
        return user, keep, gained

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if getattr(self, "conn", None) is None:
            return
        if not self._within_rate():
            await self._send_json({"type": "error", "code": "rate_limited", "message": "Too many frames."})
            await self.close(code=CLOSE_RATE)
            return
        try:
            frame = parse_frame(text_data, bytes_data)
        except _BadFrame as exc:
            await self._error(None, exc.code, exc.message)
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
        metrics.socket_push(event=message["event"])


class _Invalid(Exception):
    def __init__(self, errors) -> None:
        super().__init__("invalid frame")
        self.errors = errors
