"""Shared by the service modules: constants, access rules, the concurrent group send."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from communications.models import (
    Conversation,
)
from hvaccrm.errors import ServiceError
from hvaccrm.models import Technician
from hvaccrm.realtime import groups as g

logger = logging.getLogger(__name__)
User = get_user_model()
OFFICE_ROLES = ("dispatcher", "manager", "administrator")
SOURCE = "communications"
DELIVERY_KIND = "delivery.send"
DELIVERY_OBJECT = "communications.delivery"
ALERT_OBJECT = "communications.emergencyalert"
MAX_BODY = 5000
T = TypeVar("T")
SEND_CONCURRENCY = 8  # group_sends in flight at once (_send_many)


def _not_found(what: str) -> ServiceError:
    # Someone else's object answers exactly like a missing one (no existence oracle).
    return ServiceError(_("%(what)s not found.") % {"what": what}, code="not_found", status_code=404)


def user_is_office(user) -> bool:
    return g.is_staff_role(user, *OFFICE_ROLES)


def _technician_of(user) -> Technician | None:
    return Technician.objects.filter(user_id=user.pk).first() if user.is_authenticated else None


def conversation_can_access(*, user, conversation: Conversation) -> bool:
    """Office roles see every conversation; a client their own; a technician those of their jobs."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user_is_office(user):
        return True
    if conversation.client.users.filter(pk=user.pk).exists():
        return True
    tech = _technician_of(user)
    return tech is not None and conversation.job_id is not None and conversation.job.technician_id == tech.pk


def _send_many(pushes: list[tuple[str, dict]]) -> list[bool]:
    """group_send to many groups in one event-loop run (after commit).

    events.send_now sends group by group, each through its own async_to_sync round trip; an
    alert to 200 technicians would wait for each in turn. On the Redis layer the sends go out in
    two pipelines (_redis_send_many), else bounded concurrent group_sends. A lost frame is
    tolerable: the rows are saved and a reconnecting device catches up. Returns, per push, whether
    Redis took it (the in-app delivery is "sent" only then).
    """
    import asyncio

    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None or not pushes:
        return [False] * len(pushes)

    async def send_all() -> list[bool]:
        if _is_redis_layer(layer):
            try:
                return await _redis_send_many(layer, pushes)
            except Exception:  # the layer's internals moved on: the layer's own group_send
                logger.warning("pipelined group send failed; sending group by group", exc_info=True)
        # Bounded: each concurrent group_send opens a Redis connection of its own (the pool is new
        # with each event loop).
        gate = asyncio.Semaphore(SEND_CONCURRENCY)

        async def send(group: str, event: dict) -> None:
            async with gate:
                await layer.group_send(group, {"type": "realtime.push", "event": event})

        results = await asyncio.gather(*(send(group, event) for group, event in pushes), return_exceptions=True)
        for (group, _event), result in zip(pushes, results, strict=True):
            if isinstance(result, Exception):
                logger.warning("group_send to %s failed: %s", group, result)
        return [not isinstance(result, Exception) for result in results]

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return async_to_sync(send_all)()
    # A caller on a thread that runs an event loop (a commit hook under an async caller, a test
    # beside Playwright's loop): async_to_sync refuses there, so the frames go from a thread of
    # their own instead of being lost.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(async_to_sync(send_all)).result()


def _is_redis_layer(layer) -> bool:
    from channels_redis.core import RedisChannelLayer

    return isinstance(layer, RedisChannelLayer)


# channels-redis's group_send script (channels_redis/core.py, 4.x): one message per channel key,
# unless the key is at its capacity.
_GROUP_SEND_LUA = """
    local over_capacity = 0
    local current_time = ARGV[#ARGV - 1]
    local expiry = ARGV[#ARGV]
    for i=1,#KEYS do
        if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[i + #KEYS]) then
            redis.call('ZADD', KEYS[i], current_time, ARGV[i])
            redis.call('EXPIRE', KEYS[i], expiry)
        else
            over_capacity = over_capacity + 1
        end
    end
    return over_capacity
"""


async def _redis_send_many(layer, pushes: list[tuple[str, dict]]) -> list[bool]:
    """What `group_send` does for each push, in one pipeline per shard to read the groups and one
    to write the messages: a group_send is four Redis round trips, 800 for an alert to 200
    technicians, and on a loaded Redis those waits were most of the alert's time."""
    import collections
    import time

    members: list[list[str]] = [[] for _push in pushes]
    by_shard: dict[int, list[int]] = collections.defaultdict(list)
    for i, (group, _event) in enumerate(pushes):
        assert layer.require_valid_group_name(group), "Group name not valid"
        by_shard[layer.consistent_hash(group)].append(i)
    for shard, indexes in by_shard.items():
        pipe = layer.connection(shard).pipeline(transaction=False)
        for i in indexes:
            key = layer._group_key(pushes[i][0])
            pipe.zremrangebyscore(key, min=0, max=int(time.time()) - layer.group_expiry)
            pipe.zrange(key, 0, -1)
        replies = await pipe.execute()
        for n, i in enumerate(indexes):
            members[i] = [name.decode("utf8") for name in replies[2 * n + 1]]
    writes: dict[int, list[tuple[list, list]]] = collections.defaultdict(list)
    for (_group, event), names in zip(pushes, members, strict=True):
        if not names:
            continue
        keys_by_shard, messages, capacities = layer._map_channel_keys_to_connection(
            names, {"type": "realtime.push", "event": event})
        for shard, keys in keys_by_shard.items():
            writes[shard].append((keys, [messages[k] for k in keys] + [capacities[k] for k in keys]))
    for shard, calls in writes.items():
        now = time.time()
        pipe = layer.connection(shard).pipeline(transaction=False)
        for key in {key for keys, _args in calls for key in keys}:  # old messages expire first
            pipe.zremrangebyscore(key, min=0, max=int(now) - int(layer.expiry))
        for keys, args in calls:
            pipe.eval(_GROUP_SEND_LUA, len(keys), *keys, *args, now, layer.expiry)
        await pipe.execute()
    return [True] * len(pushes)


def run_deduped(work: Callable[[], T], *, made_by_other_run: Callable[[], T] | None) -> T:
    """Run `work` in a transaction keyed by a dedupe key; if a concurrent run of the same work won
    the race (IntegrityError on the unique key), return what that run made.

    No savepoint (each is a round trip on the alert's critical path), so inside a caller's
    transaction the error is raised: that transaction is broken anyway, and the outbox runs the
    row again. Without `made_by_other_run` (no key) the error is raised too.
    """
    outermost = not transaction.get_connection().in_atomic_block
    try:
        with transaction.atomic(savepoint=False):
            return work()
    except IntegrityError:
        if not outermost or made_by_other_run is None:
            raise
        return made_by_other_run()
