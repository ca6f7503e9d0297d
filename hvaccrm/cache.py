"""The cache backend: Django's Redis cache that treats a lost Redis as an empty cache.

Without it every request that touches the cache (DRF's throttles on each API call, the map's and
the search's cached reads) answered 500 while Redis was down (proof/test_fault_broker_down.py).
Reads answer a miss, writes do nothing and `add`/`delete`/`touch` answer False, each with a
warning. `incr` still raises: a caller that counts (login throttling, `portal.services._rate_limited`)
must decide itself, and fails closed.
"""

from __future__ import annotations

import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError)


def _tolerant(op: str, miss):
    """RedisCache's `op`, answering `miss(args, kwargs)` instead of raising while Redis is down."""
    original = getattr(RedisCache, op)

    def method(self, *args, **kwargs):
        try:
            return original(self, *args, **kwargs)
        except UNAVAILABLE as exc:
            logger.warning("cache %s skipped: Redis unavailable (%s)", op, exc)
            return miss(args, kwargs)

    method.__name__ = op
    return method


def _default(args, kwargs):
    return args[1] if len(args) > 1 else kwargs.get("default")


class TolerantRedisCache(RedisCache):
    get = _tolerant("get", _default)
    get_many = _tolerant("get_many", lambda a, k: {})
    has_key = _tolerant("has_key", lambda a, k: False)
    set = _tolerant("set", lambda a, k: None)
    set_many = _tolerant("set_many", lambda a, k: list(a[0]))  # the keys not set
    add = _tolerant("add", lambda a, k: False)
    touch = _tolerant("touch", lambda a, k: False)
    delete = _tolerant("delete", lambda a, k: False)
    delete_many = _tolerant("delete_many", lambda a, k: None)
    clear = _tolerant("clear", lambda a, k: False)
