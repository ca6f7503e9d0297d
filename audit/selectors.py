"""Audit reads: the audit report, checkpoint comparison, the access-trail search."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.consistency import get_data_consistency_report
from audit.health import health_current
from audit.models import AuditCheckpoint, IntegrationHealth, RepairRecord
from hvaccrm.models import AccessRecord, IntegrationLog

__all__ = ["access_trail_search", "checkpoint_compare", "get_audit_report", "get_data_consistency_report",
           "outbox_totals"]


def outbox_totals() -> dict[str, dict[str, int]]:
    """Rows per target and state over the whole log (an index-only scan of the target/state index)."""
    sql = f"SELECT target, state, count(*) FROM {IntegrationLog._meta.db_table} GROUP BY target, state"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    out: dict[str, dict[str, int]] = {}
    for target, state, count in rows:
        out.setdefault(target, {})[state] = count
    return out


def get_audit_report() -> dict[str, Any]:
    """The comprehensive health report: every integration's figures over the window, totals of
    the whole log, the current states and when they changed, and the latest repairs."""
    started = time.perf_counter()
    health = health_current()
    states = {
        h.integration: {"state": h.state, "since": h.changed_at.isoformat(), "checked_at": h.checked_at.isoformat()}
        for h in IntegrationHealth.objects.all()
    }
    repairs = [
        {"at": r.created_at.isoformat(), "kind": r.kind, "object": f"{r.object_type}:{r.object_id}",
         "action": r.action, "ok": r.ok, "by": r.actor_label}
        for r in RepairRecord.objects.order_by("-created_at")[:10]
    ]
    return {
        "generated_at": timezone.now().isoformat(), "health": health, "totals": outbox_totals(),
        "states": states, "recent_repairs": repairs,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
    }


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def checkpoint_compare(*, first: AuditCheckpoint, second: AuditCheckpoint) -> dict[str, Any]:
    """What changed between two checkpoints: per table the count delta and whether the content
    hash moved; per backend and health value, old and new."""
    a, b = first.data, second.data
    tables = []
    for name in sorted(set(a.get("tables", {})) | set(b.get("tables", {}))):
        ta, tb = a.get("tables", {}).get(name), b.get("tables", {}).get(name)
        tables.append({
            "table": name, "count_before": ta and ta["count"], "count_after": tb and tb["count"],
            "delta": (tb["count"] if tb else 0) - (ta["count"] if ta else 0),
            "content_changed": (ta or {}).get("hash") != (tb or {}).get("hash"),
        })
    other = []
    fa, fb = _flat({k: v for k, v in a.items() if k != "tables"}), _flat({k: v for k, v in b.items() if k != "tables"})
    for key in sorted(set(fa) | set(fb)):
        if key.endswith("created_at") or key.endswith("duration_ms") or key.endswith("computed_at"):
            continue
        if fa.get(key) != fb.get(key):
            other.append({"key": key, "before": fa.get(key), "after": fb.get(key)})
    return {
        "first": {"id": first.pk, "label": first.label, "created_at": first.created_at.isoformat()},
        "second": {"id": second.pk, "label": second.label, "created_at": second.created_at.isoformat()},
        "tables": tables, "changed_tables": [t["table"] for t in tables if t["content_changed"] or t["delta"]],
        "other_changes": other,
    }


def access_trail_search(*, person: str = "", object_type: str = "", object_id: str = "",
                        client_id: int | None = None, action: str = "", since: datetime | None = None,
                        until: datetime | None = None) -> QuerySet[AccessRecord]:
    """Access-trail entries by person (login, name or e-mail), object, data subject and time."""
    qs = AccessRecord.objects.all()
    if person:
        qs = qs.filter(Q(actor_label__icontains=person) | Q(actor__email__icontains=person)
                       | Q(actor__last_name__icontains=person))
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if client_id is not None:
        qs = qs.filter(subject_client_id=client_id)
    if action:
        qs = qs.filter(action=action)
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    return qs.order_by("-created_at", "-id")
