"""Which sockets a user has open, counted in Redis: the per-user cap, and "is anyone listening?".

One sorted set per user: member = the socket's channel name, score = when its slot lapses. A socket
renews its slot on every heartbeat and removes it on disconnect; a server process that crashes
cannot remove its sockets' slots, so they lapse by score a few heartbeats later instead of leaking
(the same reason channels-redis expires group memberships). The key itself expires too, so a user
who never comes back leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import time
import weakref

import redis
import redis.asyncio as aioredis
from django.conf import settings

_SLOT_HEARTBEATS = 3  # a slot outlives this many missed heartbeats


def _key(user_id: int) -> str:
    prefix = settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix", "asgi")
    return f"{prefix}:ws-sockets:{user_id}"


def slot_seconds() -> float:
    return max(5.0, _SLOT_HEARTBEATS * heartbeat_seconds())


def heartbeat_seconds() -> float:
    """Well inside the group expiry, so memberships are renewed before channels-redis drops them."""
    return max(0.5, min(float(settings.WS_HEARTBEAT_SECONDS), settings.CHANNEL_GROUP_EXPIRY / 3))


# redis.asyncio connections belong to the event loop that opened them: one client per loop.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = weakref.WeakKeyDictionary()


def _aclient() -> aioredis.Redis:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = aioredis.Redis.from_url(settings.REDIS_URL)
    return client


async def socket_claim(*, user_id: int, channel: str, limit: int) -> bool:
    """Take a slot for this socket; False (and no slot) when the user already has `limit` open."""
    now = time.time()
    key = _key(user_id)
    async with _aclient().pipeline(transaction=True) as pipe:
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.zadd(key, {channel: now + slot_seconds()})
        pipe.zcard(key)
        pipe.expire(key, int(slot_seconds()) + 1)
        _removed, _added, count, _ok = await pipe.execute()
    if count > limit:
        await _aclient().zrem(key, channel)
        return False
    return True


async def socket_renew(*, user_id: int, channel: str) -> None:
    key = _key(user_id)
    async with _aclient().pipeline(transaction=True) as pipe:
        pipe.zadd(key, {channel: time.time() + slot_seconds()}, xx=True)
        pipe.expire(key, int(slot_seconds()) + 1)
        await pipe.execute()


async def socket_release(*, user_id: int, channel: str) -> None:
    await _aclient().zrem(_key(user_id), channel)


def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def users_with_open_sockets(*, user_ids: list[int]) -> set[int]:
    """The users among `user_ids` with at least one live socket slot (sync: services, transports)."""
    if not user_ids:
        return set()
    now = time.time()
    client = _client()
    try:
        with client.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.zcount(_key(user_id), f"({now}", "+inf")
            counts = pipe.execute()
    finally:
        client.close()
    return {user_id for user_id, count in zip(user_ids, counts, strict=True) if count}
