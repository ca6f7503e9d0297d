"""Integration health over the integration log: success rates, latencies, backlog, last errors.

Reads only. One SQL statement computes every integration's figures over the window (filtered
aggregates and ordered-set percentiles), so the report stays fast over millions of rows: the
window is served by the `created_at` index, the backlog by the partial indexes of audit's
migration 0002.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit import conf
from hvaccrm.models import IntegrationLog, IntegrationSwitch

logger = logging.getLogger(__name__)

HEALTH_CACHE_KEY = "audit:health"
AMBER_MARGIN = 5.0  # percentage points under the threshold that are amber rather than red
ORDER = {"green": 0, "amber": 1, "red": 2}


@dataclass(frozen=True)
class Integration:
    key: str
    label: Any
    sql: str  # a condition on the log row; constants only, never user input
    threshold: float  # minimum success rate in percent (the design's monitoring thresholds)
    target: str | None = None  # the switch that pauses it, if one does


INTEGRATIONS = (
    Integration("overall", _("All integrations"), "TRUE", 95.0),
    Integration("vector", _("Database ↔ vector store"), "target = 'prophecy'", 90.0, "prophecy"),
    Integration("map", _("Communications ↔ map"), "target = 'map'", 98.0, "map"),
    Integration("portal", _("Portal ↔ systems"), "source = 'portal'", 95.0, "portal"),
    Integration("notifications", _("Notification delivery"), "target = 'notifications'", 99.0, "notifications"),
)
BY_KEY = {i.key: i for i in INTEGRATIONS}


def _window_figures(*, since) -> dict[str, dict[str, Any]]:
    parts = []
    for i in INTEGRATIONS:
        c = i.sql
        parts += [
            f"count(*) FILTER (WHERE {c} AND state = 'succeeded')",
            f"count(*) FILTER (WHERE {c} AND state IN ('failed', 'dead'))",
            f"count(*) FILTER (WHERE {c} AND state = 'dead')",
            f"percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE {c} AND state = 'succeeded')",
            f"percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE {c} AND state = 'succeeded')",
        ]
    sql = f"SELECT {', '.join(parts)} FROM {IntegrationLog._meta.db_table} WHERE created_at >= %s"  # noqa: S608 - constants
    with connection.cursor() as cursor:
        cursor.execute(sql, [since])
        row = cursor.fetchone()
    out = {}
    for n, i in enumerate(INTEGRATIONS):
        ok, bad, dead, p50, p95 = row[n * 5:(n + 1) * 5]
        out[i.key] = {"succeeded": ok, "failed": bad, "dead": dead,
                      "p50_ms": round(p50, 1) if p50 is not None else None,
                      "p95_ms": round(p95, 1) if p95 is not None else None}
    return out


def _matches(i: Integration, *, source: str, target: str) -> bool:
    """The same membership as each integration's SQL condition, for rows already read."""
    if i.key == "overall":
        return True
    if i.key == "portal":
        return source == "portal"
    return i.target == target


def _backlog() -> dict[str, dict[str, Any]]:
    """Work owed now, whatever its age: pending and failed rows, and the oldest of them."""
    sql = (
        f"SELECT source, target, count(*), min(created_at) FROM {IntegrationLog._meta.db_table} "  # noqa: S608
        "WHERE state IN ('pending', 'failed') GROUP BY source, target"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    out = {i.key: {"backlog": 0, "oldest": None} for i in INTEGRATIONS}
    for source, target, count, oldest in rows:
        for i in INTEGRATIONS:
            if _matches(i, source=source, target=target):
                entry = out[i.key]
                entry["backlog"] += count
                if entry["oldest"] is None or oldest < entry["oldest"]:
                    entry["oldest"] = oldest
    return out


def _last_errors(*, per_integration: int = 5) -> dict[str, list[dict[str, Any]]]:
    rows = list(
        IntegrationLog.objects.filter(state__in=[IntegrationLog.State.FAILED, IntegrationLog.State.DEAD])
        .order_by("-created_at")
        .values("id", "source", "target", "kind", "object_type", "object_id", "state", "attempts", "error",
                "created_at")[:200]
    )
    out: dict[str, list[dict[str, Any]]] = {i.key: [] for i in INTEGRATIONS}
    for r in rows:
        for i in INTEGRATIONS:
            if _matches(i, source=r["source"], target=r["target"]) and len(out[i.key]) < per_integration:
                out[i.key].append({**r, "error": r["error"][:300], "created_at": r["created_at"].isoformat()})
    return out


def _vector_store_healthy() -> bool | None:
    """prophecy's own probe, if prophecy is installed (None: cannot tell)."""
    try:
        from prophecy.selectors import vector_store_healthy
    except ImportError:
        return None
    try:
        return bool(vector_store_healthy())
    except Exception:  # a probe that raises means the store is not answering
        logger.warning("vector store probe failed", exc_info=True)
        return False


def state_for(*, integration: Integration, rate: float | None, finished: int, dead: int, oldest_age_s: float | None,
              switched_off: bool, backend_down: bool = False) -> tuple[str, list[str]]:
    """Green, amber or red, and why. Documented in docs/operations.md."""
    reasons: list[str] = []
    state = "green"

    def worse(new: str, why: str) -> None:
        nonlocal state
        reasons.append(why)
        if ORDER[new] > ORDER[state]:
            state = new

    if rate is not None and rate < integration.threshold:
        small = finished < conf.HEALTH_MIN_SAMPLE
        if rate < integration.threshold - AMBER_MARGIN and not small:
            worse("red", f"success {rate:.1f}% < {integration.threshold:.0f}%")
        else:
            worse("amber", f"success {rate:.1f}% < {integration.threshold:.0f}%")
    if dead:
        worse("amber", f"{dead} given up")
    if oldest_age_s is not None and oldest_age_s > conf.BACKLOG_STALE_MINUTES * 60:
        worse("amber", f"backlog waiting {oldest_age_s / 60:.0f} min")
    if switched_off:
        worse("amber", "switched off")
    if backend_down:
        worse("red", "backend not answering")
    return state, reasons


def health_compute(*, window_minutes: int | None = None) -> dict[str, Any]:
    """The live health of every integration (raises if the database cannot be read)."""
    started = time.perf_counter()
    now = timezone.now()
    window = window_minutes or conf.HEALTH_WINDOW_MINUTES
    figures = _window_figures(since=now - timedelta(minutes=window))
    backlog = _backlog()
    errors = _last_errors()
    off = set(IntegrationSwitch.objects.filter(enabled=False).values_list("target", flat=True))
    vector_ok = _vector_store_healthy()
    rows = []
    for i in INTEGRATIONS:
        f = figures[i.key]
        finished = f["succeeded"] + f["failed"]
        rate = round(100.0 * f["succeeded"] / finished, 2) if finished else None
        oldest = backlog[i.key]["oldest"]
        oldest_age = (now - oldest).total_seconds() if oldest else None
        switched_off = i.target in off if i.target else bool(off)
        state, reasons = state_for(integration=i, rate=rate, finished=finished, dead=f["dead"],
                                   oldest_age_s=oldest_age, switched_off=switched_off,
                                   backend_down=i.key == "vector" and vector_ok is False)
        rows.append({
            "key": i.key, "label": str(i.label), "threshold": i.threshold, "state": state, "reasons": reasons,
            "success_rate": rate, "succeeded": f["succeeded"], "failed": f["failed"], "dead": f["dead"],
            "p50_ms": f["p50_ms"], "p95_ms": f["p95_ms"], "backlog": backlog[i.key]["backlog"],
            "oldest_pending_s": round(oldest_age, 1) if oldest_age is not None else None,
            "switched_off": switched_off, "last_errors": errors[i.key],
        })
    overall = max((r["state"] for r in rows), key=ORDER.__getitem__)
    return {
        "computed_at": now.isoformat(), "window_minutes": window, "state": overall, "integrations": rows,
        "switches_off": sorted(off), "backends": {"vector_store": vector_ok},
        "compute_ms": round((time.perf_counter() - started) * 1000, 1), "stale": False,
    }


def health_cache_write(data: dict[str, Any]) -> None:
    try:
        cache.set(HEALTH_CACHE_KEY, data, timeout=7 * 24 * 3600)
    except Exception:  # Redis down: the live figures are still returned
        logger.warning("health cache write failed", exc_info=True)


def health_cached() -> dict[str, Any] | None:
    try:
        return cache.get(HEALTH_CACHE_KEY)
    except Exception:
        return None


def health_current() -> dict[str, Any]:
    """What the dashboard shows: live figures, or the last cached ones marked stale when the
    database (or the vector store) cannot be read."""
    try:
        data = health_compute()
    except DatabaseError as exc:
        cached = health_cached()
        if cached is None:
            return {"state": "red", "integrations": [], "stale": True, "computed_at": None,
                    "error": f"{type(exc).__name__}: {exc}"[:300]}
        return {**cached, "stale": True, "error": f"{type(exc).__name__}: {exc}"[:300]}
    if data["backends"].get("vector_store") is False:
        # The vector figures come from our log, but the store itself is down: say so, and keep
        # the last figures taken while it answered for comparison.
        cached = health_cached()
        data["vector_last_good"] = (
            next((r for r in cached.get("integrations", []) if r["key"] == "vector"), None) if cached else None
        )
        data["stale_backends"] = ["vector_store"]
    else:
        health_cache_write(data)
    return data
