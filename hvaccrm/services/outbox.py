"""The outbox: work owed to other subsystems, written in the same transaction as the change.

`record(...)` writes one IntegrationLog row and, after commit, hands it to Celery (`record_many`:
several rows in one INSERT). Handlers and
payload checks are registered per (target, kind) by the integration app's contracts when it is
ready (the core imports no app); a payload that fails its check is refused by `record`. `outbox_process` runs one row; the
five-minute `outbox_sweep` republishes rows whose publish was lost and retries failures with
exponential backoff and jitter: it is the only retry loop in the project.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from hvaccrm.models import IntegrationLog, IntegrationSwitch
from hvaccrm.outbox_run import (  # noqa: F401 (the outbox's one import path for callers)
    Handler,
    HandlerFailed,
    NoHandler,
    PayloadCheck,
    _handlers,
    _own_transactions,
    _payload_checks,
    _queues,
    backoff_seconds,
    handler_for,
    outbox_handler,
    outbox_own_transactions,
    outbox_payload_check,
    outbox_process,
    outbox_queue,
    queue_for,
    registered_handlers,
    target_enabled,
)
from hvaccrm.tasks_outbox import outbox_process_many_task, outbox_process_task

logger = logging.getLogger(__name__)

State = IntegrationLog.State


def _object_ref(obj: models.Model | None, object_type: str, object_id: Any) -> tuple[str, str]:
    if obj is not None:
        return obj._meta.label_lower, str(obj.pk)
    return object_type, "" if object_id is None else str(object_id)


def record(
    *,
    source: str,
    target: str,
    kind: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: Any = None,
    payload: dict | None = None,
    audit_level: str = "basic",
) -> IntegrationLog:
    """Write one piece of owed work; must run inside the caller's transaction."""
    row = _checked_row(source=source, target=target, kind=kind, obj=obj, object_type=object_type,
                       object_id=object_id, payload=payload, audit_level=audit_level)
    row.save(force_insert=True)
    if settings.OUTBOX_PUBLISH_ON_COMMIT:
        queue = queue_for(target, kind) or ""
        transaction.on_commit(lambda: outbox_publish(log_ids=[row.pk], queue=queue))
    return row


def record_many(entries: list[dict[str, Any]]) -> list[IntegrationLog]:
    """`record` for several rows in one INSERT (each entry is `record`'s keywords).

    Every payload is checked first, so one refused payload writes none of the rows. After commit
    each row is published once, in the order given (one hook for all, so the order between them
    and the caller's other hooks is what consecutive `record` calls would give)."""
    rows = [_checked_row(**entry) for entry in entries]
    if not rows:
        return []
    _insert(rows)
    if settings.OUTBOX_PUBLISH_ON_COMMIT:
        routed = [(row.pk, queue_for(row.target, row.kind) or "") for row in rows]

        def publish() -> None:
            for log_id, queue in routed:
                outbox_publish(log_ids=[log_id], queue=queue)

        transaction.on_commit(publish)
    return rows


def _insert(rows: list[IntegrationLog]) -> None:
    """bulk_create's INSERT ... VALUES ... RETURNING id without its query compiler (a third of
    record_many's CPU): each field's own pre_save (auto_now) and database preparation (JSON)."""
    fields = [f for f in IntegrationLog._meta.concrete_fields if not f.primary_key]
    params: list[Any] = []
    for row in rows:
        params.extend(f.get_db_prep_save(f.pre_save(row, True), connection) for f in fields)
    quote = connection.ops.quote_name
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    # Only the model's own quoted identifiers are formatted in; every value is a parameter.
    table, columns = quote(IntegrationLog._meta.db_table), ", ".join(quote(f.column) for f in fields)
    values, pk = ", ".join([one] * len(rows)), quote(IntegrationLog._meta.pk.column)
    sql = f"INSERT INTO {table} ({columns}) VALUES {values} RETURNING {pk}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [pk for (pk,) in cursor.fetchall()]
    for row, pk in zip(rows, ids, strict=True):
        row.pk = pk
        row._state.adding = False
        row._state.db = connection.alias


def _checked_row(*, source: str, target: str, kind: str, obj: models.Model | None = None, object_type: str = "",
                 object_id: Any = None, payload: dict | None = None, audit_level: str = "basic") -> IntegrationLog:
    """An unsaved row whose payload passed its contract's check, inside a transaction."""
    if not connection.in_atomic_block:
        # Outside a transaction the row could commit without the change it follows (or vice versa).
        raise RuntimeError("record() must be called inside transaction.atomic()")
    check = _payload_checks.get((target, kind))
    if check is not None:
        check(payload or {})
    otype, oid = _object_ref(obj, object_type, object_id)
    return IntegrationLog(source=source, target=target, kind=kind, object_type=otype, object_id=oid,
                          payload=payload or {}, audit_level=audit_level)


def _queues_of(log_ids: list[int]) -> dict[int, str]:
    """{row id: its queue} for the rows of a (target, kind) with a queue of its own."""
    if not _queues or not log_ids:
        return {}
    rows = IntegrationLog.objects.filter(pk__in=log_ids).values_list("pk", "target", "kind")
    return {pk: _queues[(t, k)] for pk, t, k in rows if (t, k) in _queues}


def outbox_publish(*, log_ids: list[int], queue: str | None = None) -> int:
    """Hand rows to Celery. A lost publish is harmless: the sweep finds the row still pending.

    `queue` is the rows' queue ("" for the default one) when the caller knows it (record does);
    None looks each row's (target, kind) up, so a swept or retried emergency row goes to the
    emergency queue as well.
    """

    routed = _queues_of(log_ids) if queue is None else dict.fromkeys(log_ids, queue)
    sent = 0
    for log_id in log_ids:
        try:
            if routed.get(log_id):
                outbox_process_task.apply_async((log_id,), queue=routed[log_id])
            else:
                outbox_process_task.delay(log_id)
            sent += 1
        except Exception:  # broker down: the sweep will publish it
            logger.warning("outbox publish of %s failed; the sweep will retry", log_id, exc_info=True)
    return sent


def outbox_publish_together(*, log_ids: list[int], size: int = 100) -> int:
    """Hand many default-queue rows to Celery as a few tasks of `size` rows (a fan-out's
    deliveries): one publish and one task per batch instead of one per row. Each row is still
    processed, retried and swept on its own; a lost publish is found by the sweep."""

    sent = 0
    for start in range(0, len(log_ids), size):
        batch = list(log_ids[start:start + size])
        try:
            outbox_process_many_task.delay(batch)
            sent += len(batch)
        except Exception:  # broker down: the sweep will publish them
            logger.warning("outbox publish of %s rows failed; the sweep will retry", len(batch), exc_info=True)
    return sent


def outbox_due(*, limit: int = 1000, grace_seconds: float = 30.0) -> list[int]:
    """Rows the sweep should publish: pending past a grace period, or failed and due, targets on."""
    now = timezone.now()
    off = list(IntegrationSwitch.objects.filter(enabled=False).values_list("target", flat=True))
    pending = models.Q(state=State.PENDING, created_at__lte=now - timedelta(seconds=grace_seconds),
                       next_attempt_at__lte=now)
    failed = models.Q(state=State.FAILED, next_attempt_at__lte=now)
    qs = IntegrationLog.objects.filter(pending | failed).exclude(target__in=off)
    return list(qs.order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit])


def outbox_sweep(*, limit: int = 1000, grace_seconds: float = 30.0) -> int:
    """Publish what is owed; returns how many rows were handed to the workers."""
    return outbox_publish(log_ids=outbox_due(limit=limit, grace_seconds=grace_seconds))


def outbox_retry(*, log_id: int) -> IntegrationLog:
    """Staff retry of a dead or failed row: it becomes pending again and is published."""
    with transaction.atomic():
        row = IntegrationLog.objects.select_for_update().get(pk=log_id)
        if row.state == State.SUCCEEDED:
            return row
        row.state = State.PENDING
        row.attempts = 0
        row.next_attempt_at = timezone.now()
        row.finished_at = None
        row.save(update_fields=["state", "attempts", "next_attempt_at", "finished_at", "updated_at"])
        transaction.on_commit(lambda: outbox_publish(log_ids=[row.pk]))
    return row


def integration_switch_set(*, target: str, enabled: bool, actor=None, reason: str = "") -> IntegrationSwitch:
    """Turn a target off (its rows wait) or on (its waiting rows are published at once)."""
    with transaction.atomic():
        switch, _ = IntegrationSwitch.objects.select_for_update().get_or_create(target=target)
        switch.enabled = enabled
        switch.reason = reason
        switch.changed_by = actor
        switch.save(update_fields=["enabled", "reason", "changed_by", "changed_at"])
        if enabled:
            waiting = list(
                IntegrationLog.objects.filter(target=target, state__in=[State.PENDING, State.FAILED])
                .values_list("id", flat=True)[:10000]
            )
            transaction.on_commit(lambda: outbox_publish(log_ids=waiting))
    return switch
