"""Group sends from synchronous code with a synchronous Redis client (no event loop per send).

`async_to_sync(layer.group_send)` from a commit hook starts an event loop run, and channels-redis
keeps one connection pool per loop, so each such send also paid for a fresh Redis connection. Here
a batch of group sends is two pipelines per Redis shard on a process-wide synchronous pool: one
reads the groups (expired members dropped first, as group_send does), one writes the messages.
What is written is what channels-redis 4.x's group_send writes: the layer's own keys, capacities,
serialiser (msgpack with its random prefix, encryption if configured), score and expiry, through
the library's own group_send script, so consumers receive the frames unchanged.
"""

from __future__ import annotations

import collections
import time

import redis

# channels-redis's group_send script (channels_redis/core.py, 4.x): one message per channel key,
# unless the key is at its capacity.
GROUP_SEND_LUA = """
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

_clients: dict[tuple[int, int], redis.Redis] = {}


def client(layer, index: int) -> redis.Redis | None:
    """A synchronous client for the layer's shard `index` (None for hosts it cannot serve, e.g.
    Sentinel: the caller then uses the layer's own async send). redis-py's pool is thread-safe
    and opens new connections after a fork."""
    key = (id(layer), index)
    found = _clients.get(key)
    if found is None:
        host = dict(layer.hosts[index])
        if "master_name" in host:
            return None
        address = host.pop("address", None)
        pool = redis.ConnectionPool.from_url(address, **host) if address else redis.ConnectionPool(**host)
        found = _clients[key] = redis.Redis(connection_pool=pool)
    return found


def can_send(layer) -> bool:
    return all(client(layer, i) is not None for i in range(layer.ring_size))


def send_many(layer, pushes: list[tuple[str, dict]]) -> list[bool]:
    """What `group_send(group, message)` does for each (group, message), pipelined per shard."""
    members: list[list[str]] = [[] for _push in pushes]
    by_shard: dict[int, list[int]] = collections.defaultdict(list)
    for i, (group, _message) in enumerate(pushes):
        assert layer.require_valid_group_name(group), "Group name not valid"
        by_shard[layer.consistent_hash(group)].append(i)
    for shard, indexes in by_shard.items():
        pipe = client(layer, shard).pipeline(transaction=False)
        for i in indexes:
            key = layer._group_key(pushes[i][0])
            pipe.zremrangebyscore(key, min=0, max=int(time.time()) - layer.group_expiry)
            pipe.zrange(key, 0, -1)
        replies = pipe.execute()
        for n, i in enumerate(indexes):
            members[i] = [name.decode("utf8") for name in replies[2 * n + 1]]
    writes: dict[int, list[tuple[list, list]]] = collections.defaultdict(list)
    for (_group, message), names in zip(pushes, members, strict=True):
        if not names:
            continue
        keys_by_shard, messages, capacities = layer._map_channel_keys_to_connection(names, message)
        for shard, keys in keys_by_shard.items():
            writes[shard].append((keys, [messages[k] for k in keys] + [capacities[k] for k in keys]))
    for shard, calls in writes.items():
        now = time.time()
        pipe = client(layer, shard).pipeline(transaction=False)
        for key in dict.fromkeys(key for keys, _args in calls for key in keys):  # old messages expire first
            pipe.zremrangebyscore(key, min=0, max=int(now) - int(layer.expiry))
        for keys, args in calls:
            pipe.eval(GROUP_SEND_LUA, len(keys), *keys, *args, now, layer.expiry)
        pipe.execute()
    return [True] * len(pushes)
