"""The health-check registry and the core's own checks (database, cache/Redis, Celery heartbeat)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection

HEARTBEAT_KEY = "health:celery-heartbeat"
HEARTBEAT_MAX_AGE = 180.0


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str
    duration_ms: float


_checks: dict[str, Callable[[], str]] = {}


def register_check(name: str) -> Callable[[Callable[[], str]], Callable[[], str]]:
    """A check returns a short detail on success and raises on failure."""

    def decorator(fn: Callable[[], str]) -> Callable[[], str]:
        _checks[name] = fn
        return fn

    return decorator


def run_checks() -> list[CheckResult]:
    results = []
    for name, fn in _checks.items():
        started = time.perf_counter()
        try:
            detail, ok = fn(), True
        except Exception as exc:  # a failing check is reported, never raised
            detail, ok = f"{type(exc).__name__}: {exc}"[:300], False
        results.append(CheckResult(name, ok, str(detail), round((time.perf_counter() - started) * 1000, 1)))
    return results


@register_check("database")
def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


@register_check("redis")
def check_redis() -> str:
    key = "health:probe"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("cache round trip failed")
    return "ok"


@register_check("celery")
def check_celery() -> str:
    beat = cache.get(HEARTBEAT_KEY)
    if beat is None:
        raise RuntimeError("no worker heartbeat seen")
    age = time.time() - float(beat)
    if age > HEARTBEAT_MAX_AGE:
        raise RuntimeError(f"last worker heartbeat {age:.0f} s ago")
    return f"heartbeat {age:.0f} s ago"


def heartbeat_write() -> None:
    cache.set(HEARTBEAT_KEY, time.time(), timeout=int(HEARTBEAT_MAX_AGE * 2))
