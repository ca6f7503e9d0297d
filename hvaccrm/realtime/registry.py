"""Inbound frame types: each app registers a handler and the serializer that validates its data.

A handler is a plain sync function `handler(*, user, data, connection) -> dict | None`, run in a
thread by the consumer (database work is allowed there); it calls one service and returns the
reply's data. `connection` is a small object with `user`, `groups` and `technician_id`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FrameType:
    name: str
    serializer: type
    handler: Callable[..., dict[str, Any] | None]
    allow: Callable[[Any], bool] | None = None  # who may send it (user -> bool)


_frames: dict[str, FrameType] = {}


def register_frame(name: str, *, serializer: type, allow: Callable[[Any], bool] | None = None):
    """Decorator: `@register_frame("message.send", serializer=MessageSendFrame)`."""

    def decorator(fn):
        _frames[name] = FrameType(name=name, serializer=serializer, handler=fn, allow=allow)
        return fn

    return decorator


def frame_type(name: str) -> FrameType | None:
    return _frames.get(name)

