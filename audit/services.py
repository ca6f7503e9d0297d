"""Audit writes: the five-minute health run, repairs, checkpoints, access-trail retention.

Audit repairs through the integration service (integration.services), never by writing
another subsystem's rows itself; every repair it makes is recorded as a RepairRecord.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from audit import conf
from audit.consistency import CHECKS_BY_KIND, get_data_consistency_report
from audit.health import BY_KEY, HEALTH_CACHE_KEY, health_cache_write, health_compute
from audit.models import AuditCheckpoint, ConsistencyCheck, HealthSnapshot, IntegrationHealth, RepairRecord
from hvaccrm.checks import run_checks
from hvaccrm.models import AccessRecord

logger = logging.getLogger(__name__)

# Tables of every app whose counts and content hashes a checkpoint keeps (audit's own excluded).
CHECKPOINT_APPS = ("hvaccrm", "communications", "mapping", "prophecy", "portal")


def health_run() -> dict[str, Any]:
    """Compute every integration's health, keep a snapshot, and alert administrators of each
    change of state, once: the stored state moves only when its alert went out."""
    from integration.services import health_alert_send

    data = health_compute()
    changes = []
    with transaction.atomic():
        snapshot = HealthSnapshot.objects.create(overall=data["state"], data=data)
        for row in data["integrations"]:
            health, created = IntegrationHealth.objects.select_for_update().get_or_create(
                integration=row["key"], defaults={"state": "green"})
            previous = health.state
            if row["state"] != previous:
                alerted = True
                try:
                    with transaction.atomic():
                        health_alert_send(
                            integration=row["key"], label=str(BY_KEY[row["key"]].label), state=row["state"],
                            previous=previous, detail="; ".join(row["reasons"]),
                            dedupe_key=f"health:{row['key']}:{snapshot.pk}",
                        )
                except Exception:  # no alert went out: keep the old state so the next run retries
                    logger.warning("health alert for %s failed", row["key"], exc_info=True)
                    alerted = False
                changes.append({"integration": row["key"], "from": previous, "to": row["state"], "alerted": alerted})
                if alerted:
                    health.state = row["state"]
                    health.changed_at = timezone.now()
            health.data = {k: row[k] for k in ("success_rate", "p50_ms", "p95_ms", "backlog", "reasons")}
            health.save()
        snapshot.changes = changes
        snapshot.save(update_fields=["changes"])
    health_cache_write(data)
    return {"snapshot": snapshot.pk, "state": data["state"], "changes": changes}


def health_snapshots_prune(*, keep_days: int = 30) -> int:
    deleted, _ = HealthSnapshot.objects.filter(created_at__lt=timezone.now() - timedelta(days=keep_days)).delete()
    return deleted


def access_trail_retention_apply(*, days: int | None = None) -> int:
    """Delete access-trail entries older than the retention period; the only way entries go.

    The database refuses any other delete of the trail (audit migration 0002): this transaction
    says, for itself only, that it is the retention run.
    """
    keep = conf.ACCESS_TRAIL_RETENTION_DAYS if days is None else days
    cutoff = timezone.now() - timedelta(days=keep)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL audit.retention = 'on'")
        deleted, _ = AccessRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# --- repair --------------------------------------------------------------------------------


def _repair_one(kind: str, obj: Any, *, run_id: str) -> tuple[str, dict[str, Any]]:
    """Do one repair through the integration service; returns (action, result)."""
    from integration import services as integration

    # Stable per object for the emergency (at most one repair alert per message); per run for the
    # map, whose job_locate remembers a key for days and would otherwise skip a later repair.
    stable = kind in ("emergency_without_notification", "emergency_booking_without_notification")
    key = f"repair:{kind}:{obj}" if stable else f"repair:{run_id}:{kind}:{obj}"
    if kind == "message_without_log":
        return "sync_communication_data", integration.sync_communication_data(message_id=int(obj))
    if kind == "synced_without_vector":
        return "vector_sync_requeue", integration.vector_sync_requeue(log_id=int(obj))
    if kind == "emergency_without_notification":
        return "emergency_notification_ensure", integration.emergency_notification_ensure(
            message_id=int(obj), dedupe_key=key)
    if kind == "emergency_booking_without_notification":
        return "emergency_booking_ensure", integration.emergency_booking_ensure(job_id=int(obj), dedupe_key=key)
    if kind == "job_without_location":
        return "job_location_repair", integration.job_location_repair(job_id=int(obj), dedupe_key=key)
    if kind == "log_of_deleted_object":
        return "integration_logs_remove", {"removed": integration.integration_logs_remove(log_ids=[int(obj)])}
    if kind == "stale_cache":
        cache.delete(str(obj))
        if obj == HEALTH_CACHE_KEY:
            health_cache_write(health_compute())
        return "cache_invalidate", {"key": str(obj)}
    raise ValueError(f"no repair for {kind}")


def repair_data_inconsistencies(*, dry_run: bool = True, actor=None, kinds: list[str] | None = None,
                                **params: Any) -> dict[str, Any]:
    """Fix what the consistency report finds, through the integration service.

    The dry run returns the plan and changes nothing. A real run records one RepairRecord per
    object; it is idempotent: what was repaired is not found again, so a second run does nothing.
    """
    report = get_data_consistency_report(kinds=kinds, **params)
    plan = []
    for finding in report["findings"]:
        check = CHECKS_BY_KIND[finding["kind"]]
        if not check.repairable:
            continue
        skip = set(map(str, finding.get("unrepairable_objects", [])))
        for obj in finding["objects"]:
            if str(obj) in skip:
                continue
            plan.append({"kind": finding["kind"], "object_type": check.object_type, "object_id": str(obj),
                         "action": str(check.action)})
    run_id = str(uuid.uuid4())
    result: dict[str, Any] = {"run": run_id, "dry_run": dry_run, "planned": plan, "done": [], "failed": 0,
                              "findings_before": [{"kind": f["kind"], "count": f["count"]} for f in report["findings"]]}
    if dry_run:
        return result
    label = actor.get_username() if getattr(actor, "is_authenticated", False) else "system"
    for item in plan:
        ok, action = True, ""
        try:
            with transaction.atomic():
                action, outcome = _repair_one(item["kind"], item["object_id"], run_id=run_id)
        except Exception as exc:  # one object's failure must not stop the others; it is recorded
            ok, outcome = False, {"error": f"{type(exc).__name__}: {exc}"[:500]}
            action = action or "failed"
            logger.warning("repair of %s %s failed", item["kind"], item["object_id"], exc_info=True)
        RepairRecord.objects.create(
            run_id=run_id, kind=item["kind"], object_type=item["object_type"], object_id=item["object_id"],
            action=action, ok=ok, result=_jsonable(outcome), actor=actor if label != "system" else None,
            actor_label=label,
        )
        result["done"].append({**item, "ok": ok, "result": _jsonable(outcome)})
        result["failed"] += not ok
    return result


def consistency_checks_ensure() -> int:
    """One ConsistencyCheck row per check of the report (a new check gets its row); returns how many
    were added. Idempotent: run by the checks' admin list before it reads them."""
    have = set(ConsistencyCheck.objects.values_list("kind", flat=True))
    missing = [ConsistencyCheck(kind=kind) for kind in CHECKS_BY_KIND if kind not in have]
    ConsistencyCheck.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)


def consistency_checks_run(*, kinds: list[str]) -> dict[str, Any]:
    """Run the report for `kinds` and keep what each found on its row (nothing else changes)."""
    report = get_data_consistency_report(kinds=kinds)
    counts = {f["kind"]: f["count"] for f in report["findings"]}
    now = timezone.now()
    with transaction.atomic():
        for check in ConsistencyCheck.objects.select_for_update().filter(kind__in=report["checked"]):
            check.found, check.checked_at = counts.get(check.kind, 0), now
            check.save(update_fields=["found", "checked_at"])
    return report


def consistency_checks_repair(*, kinds: list[str], actor) -> dict[str, Any]:
    """Repair what the selected checks find (repair_data_inconsistencies, one RepairRecord per
    object), then run them again: each row keeps what it repaired and what is still found."""
    result = repair_data_inconsistencies(dry_run=False, actor=actor, kinds=kinds)
    repaired: dict[str, int] = {}
    for item in result["done"]:
        repaired[item["kind"]] = repaired.get(item["kind"], 0) + bool(item["ok"])
    ConsistencyCheck.objects.filter(kind__in=kinds).update(repaired=0)
    for kind, n in repaired.items():
        ConsistencyCheck.objects.filter(kind=kind).update(repaired=n)
    result["after"] = consistency_checks_run(kinds=kinds)
    return result


def _jsonable(value: Any) -> Any:
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, default=str))


# --- checkpoints -----------------------------------------------------------------------------


def _table_state(model) -> dict[str, Any]:
    """Row count and an order-independent content hash (the sum of each row's 64-bit hash)."""
    table = model._meta.db_table
    sql = f"SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)::numeric), 0)::text FROM {table} t"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        count, digest = cursor.fetchone()
    return {"count": count, "hash": digest}


def _backends_state() -> dict[str, Any]:
    """What lives outside the tables: the vector store's object count and health, Redis' keys."""
    out: dict[str, Any] = {"checks": {r.name: r.ok for r in run_checks()}}
    try:
        client = cache._cache.get_client(None, write=False)  # Django's RedisCache: the redis-py client
        out["redis"] = {"keys": int(client.dbsize())}
    except Exception as exc:  # Redis down: the checkpoint records it instead of failing
        out["redis"] = {"error": str(exc)[:200]}
    try:
        from prophecy import selectors as ps
        from prophecy.stores import store_get
    except ImportError:
        return out
    try:
        out["vector_store"] = {"healthy": bool(ps.vector_store_healthy()), "objects": int(store_get().count())}
    except Exception as exc:  # the store is down: the checkpoint says so instead of failing
        out["vector_store"] = {"healthy": False, "error": str(exc)[:200]}
    return out


def create_audit_checkpoint(*, label: str = "", actor=None) -> AuditCheckpoint:
    """A snapshot of the system: counts and content hashes per table, backends, outbox, health."""
    from audit.selectors import outbox_totals

    tables = {}
    for app_label in CHECKPOINT_APPS:
        try:
            config = apps.get_app_config(app_label)
        except LookupError:
            continue
        for model in config.get_models():
            if model._meta.managed and not model._meta.proxy:
                tables[model._meta.label_lower] = _table_state(model)
    try:
        health = health_compute()
        health_summary = {r["key"]: {"state": r["state"], "success_rate": r["success_rate"], "backlog": r["backlog"]}
                          for r in health["integrations"]}
    except Exception as exc:  # a checkpoint is still worth taking when health cannot be computed
        health_summary = {"error": str(exc)[:200]}
    data = {"tables": tables, "backends": _backends_state(), "outbox": outbox_totals(), "health": health_summary,
            "created_at": timezone.now().isoformat()}
    return AuditCheckpoint.objects.create(label=label[:120], created_by=actor if getattr(actor, "pk", None) else None,
                                          data=_jsonable(data))
