"""The channel layer: channels-redis's core layer, receiving a server process's messages in batches.

All sockets of one server process share one Redis sorted set (the "specific.<process>!" channel).
channels-redis takes one message off it per four Redis round trips in a row (restore the in-flight
backup, BZPOPMIN, back it up, clean the backup), so a fan-out to 200 sockets of one process was
received one by one over hundreds of milliseconds (docs/emergency.md: the fan-out floor). Here one
atomic script takes up to `receive_batch` waiting messages at once and backs them all up; they are
handed out from memory, and the backup is dropped only when the whole batch has been handed out.
When nothing waits, the library's own blocking receive is used unchanged.

The guarantees stay the library's: a message popped but not handed out (a cancelled receive) is in
the backup and goes back to the front of the queue on the next fetch; capacity, expiry and groups
are untouched. Only process-specific channels ("!") are batched.
"""

from __future__ import annotations

import collections

from channels_redis.core import RedisChannelLayer

# KEYS[1] the channel's sorted set, KEYS[2] its in-flight backup; ARGV[1] batch size,
# ARGV[2] "1" when the previous batch was all handed out (drop the backup) or "0" (restore it).
_FETCH_BATCH = """
if ARGV[2] == '1' then
    redis.call('DEL', KEYS[2])
else
    local backed_up = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
    for i = #backed_up, 1, -2 do
        redis.call('ZADD', KEYS[1], backed_up[i], backed_up[i - 1])
    end
    redis.call('DEL', KEYS[2])
end
local popped = redis.call('ZPOPMIN', KEYS[1], ARGV[1])
for i = 1, #popped, 2 do
    redis.call('ZADD', KEYS[2], popped[i + 1], popped[i])
end
return popped
"""


class BatchingRedisChannelLayer(RedisChannelLayer):
    """RedisChannelLayer whose process-wide channel is drained in batches (see the module doc)."""

    def __init__(self, *args, receive_batch: int = 200, **kwargs):
        super().__init__(*args, **kwargs)
        self.receive_batch = max(1, int(receive_batch))
        self._batches: dict[str, collections.deque] = {}
        self._batch_done: dict[str, bool] = {}

    async def receive_single(self, channel):
        if "!" not in channel:
            return await super().receive_single(channel)
        pending = self._batches.get(channel)
        if pending:
            content = pending.popleft()
            if not pending:
                self._batch_done[channel] = True
            return self._unpack(channel, content)
        popped = await self._fetch_batch(channel)
        if not popped:
            return await super().receive_single(channel)
        contents = collections.deque(popped[0::2])
        first = contents.popleft()
        self._batches[channel] = contents
        self._batch_done[channel] = not contents
        return self._unpack(channel, first)

    async def _fetch_batch(self, channel):
        assert self.require_valid_channel_name(channel, receive=True), "Channel name invalid"
        key = self.prefix + channel
        drop_backup = "1" if self._batch_done.pop(channel, False) else "0"
        # The library's cleaner of a single receive holds this lock until its backup entry is gone.
        await self.receive_clean_locks.acquire(key)
        try:
            connection = self.connection(self.consistent_hash(channel))
            return await connection.eval(
                _FETCH_BATCH, 2, key, self._backup_channel_name(key), self.receive_batch, drop_backup
            )
        except BaseException:
            # Nothing was handed out of a fetch that failed: the backup must be restored next time.
            self._batch_done[channel] = False
            raise
        finally:
            self.receive_clean_locks.release(key)

    def _unpack(self, channel, content):
        message = self.deserialize(content)
        if "__asgi_channel__" in message:
            channel = message.pop("__asgi_channel__")
        return channel, message
