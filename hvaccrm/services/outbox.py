"""The outbox: work owed to other subsystems, written in the same transaction as the change.

`record(...)` writes one IntegrationLog row and, after commit, hands it to Celery. Handlers and
payload checks are registered per (target, kind) by the integration app's contracts when it is
ready (the core imports no app); a payload that fails its check is refused by `record`. `outbox_process` runs one row; the
five-minute `outbox_sweep` republishes rows whose publish was lost and retries failures with
exponential backoff and jitter: it is the only retry loop in the project.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from hvaccrm import metrics
from hvaccrm.models import IntegrationLog, IntegrationSwitch

logger = logging.getLogger(__name__)

Handler = Callable[[IntegrationLog], Any]
PayloadCheck = Callable[[dict], None]
_handlers: dict[tuple[str, str], Handler] = {}
_payload_checks: dict[tuple[str, str], PayloadCheck] = {}
# The Celery queue of a (target, kind) whose rows must not wait behind other work (emergencies);
# every other row goes to the default queue.
_queues: dict[tuple[str, str], str] = {}
# The (target, kind)s whose handler commits its own steps and runs outside the row's transaction.
_own_transactions: set[tuple[str, str]] = set()
State = IntegrationLog.State


class NoHandler(RuntimeError):
    pass


class HandlerFailed:
    """Returned (not raised) by a handler whose work failed but whose own writes must stay, e.g.
    a delivery attempt that recorded its error: the row is retried, the writes are kept."""

    def __init__(self, error: str) -> None:
        self.error = error


def outbox_handler(target: str, kind: str = "*") -> Callable[[Handler], Handler]:
    """Register the function that does a target's work (for one kind, or every kind)."""

    def decorator(fn: Handler) -> Handler:
        _handlers[(target, kind)] = fn
        return fn

    return decorator


def outbox_payload_check(target: str, kind: str, check: PayloadCheck) -> None:
    """Register the check of a (target, kind)'s payload; it raises (a ValueError) on a bad one."""
    _payload_checks[(target, kind)] = check


def outbox_queue(target: str, kind: str, queue: str) -> None:
    """Register the Celery queue that runs a (target, kind)'s rows (its own worker serves it)."""
    _queues[(target, kind)] = queue


def outbox_own_transactions(target: str, kind: str) -> None:
    """Register a (target, kind) whose handler commits its own steps (a send to a gateway that
    must be recorded as started before it happens): it runs outside the row's transaction."""
    _own_transactions.add((target, kind))


def queue_for(target: str, kind: str) -> str | None:
    """The queue registered for a (target, kind); None: the default queue."""
    return _queues.get((target, kind))


def handler_for(target: str, kind: str) -> Handler:
    fn = _handlers.get((target, kind)) or _handlers.get((target, "*"))
    if fn is None:
        raise NoHandler(f"no outbox handler registered for {target}/{kind}")
    return fn


def registered_handlers() -> dict[tuple[str, str], Handler]:
    return dict(_handlers)


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
    if not connection.in_atomic_block:
        # Outside a transaction the row could commit without the change it follows (or vice versa).
        raise RuntimeError("record() must be called inside transaction.atomic()")
    check = _payload_checks.get((target, kind))
    if check is not None:
        check(payload or {})
    otype, oid = _object_ref(obj, object_type, object_id)
    row = IntegrationLog.objects.create(
        source=source, target=target, kind=kind, object_type=otype, object_id=oid,
        payload=payload or {}, audit_level=audit_level,
    )
    if settings.OUTBOX_PUBLISH_ON_COMMIT:
        queue = queue_for(target, kind) or ""
        transaction.on_commit(lambda: outbox_publish(log_ids=[row.pk], queue=queue))
    return row


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
    from hvaccrm.tasks import outbox_process_task

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
    from hvaccrm.tasks import outbox_process_many_task

    sent = 0
    for start in range(0, len(log_ids), size):
        batch = list(log_ids[start:start + size])
        try:
            outbox_process_many_task.delay(batch)
            sent += len(batch)
        except Exception:  # broker down: the sweep will publish them
            logger.warning("outbox publish of %s rows failed; the sweep will retry", len(batch), exc_info=True)
    return sent


class _KeptWritesFailure(Exception):
    pass


def target_enabled(target: str) -> bool:
    return not IntegrationSwitch.objects.filter(target=target, enabled=False).exists()


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with jitter: base * 2^(n-1), capped, scaled by a random 0.5-1.0."""
    base = settings.OUTBOX_BACKOFF_BASE * (2 ** max(0, attempts - 1))
    return min(settings.OUTBOX_BACKOFF_MAX, base) * random.uniform(0.5, 1.0)


def outbox_process(*, log_id: int) -> str:
    """Run one row's handler once; returns the state it ends in (or why it did not run).

    The attempt is counted first, in a transaction of its own that commits before the handler
    runs: a handler that takes the worker process down (a poison row) cannot roll the count back,
    so after its attempts the row is dead instead of crash-looping the workers. The row is then
    locked for the run, so two workers never run the same row at once; the handler's own writes
    commit together with the row's new state, so a crash leaves both undone.
    """
    with transaction.atomic():
        row = IntegrationLog.objects.select_for_update(skip_locked=True).filter(pk=log_id).first()
        if row is None:
            return "busy"
        if row.state in (State.SUCCEEDED, State.DEAD):
            return row.state
        if not target_enabled(row.target):
            return "switched_off"
        if row.state == State.PENDING and row.next_attempt_at > timezone.now():
            return "not_due"  # deferred (quiet hours): the sweep publishes it when it is due
        if row.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            # Every attempt was counted and none recorded an outcome: the worker died in the handler.
            row.state = State.DEAD
            row.finished_at = timezone.now()
            row.error = (f"the worker stopped while running the handler ({row.attempts} attempts); "
                         f"last error: {row.error or '-'}")[:4000]
            row.save(update_fields=["state", "finished_at", "error", "updated_at"])
            metrics.outbox_finished(row=row)
            return row.state
        row.attempts += 1
        row.save(update_fields=["attempts", "updated_at"])
        counted = row.attempts
    if (row.target, row.kind) in _own_transactions:
        # The handler commits its own steps (a delivery commits "sending" before it calls the
        # gateway), so it runs outside the row's transaction; the outcome is recorded after it.
        started = time.perf_counter()
        outcome = _handler_run(row)
        with transaction.atomic():
            row = IntegrationLog.objects.select_for_update().filter(pk=log_id).first()
            if row is None or row.attempts != counted or row.state in (State.SUCCEEDED, State.DEAD):
                return "busy"
            return _outcome_save(row, outcome, started)
    with transaction.atomic():
        row = IntegrationLog.objects.select_for_update(skip_locked=True).filter(pk=log_id).first()
        # Another worker counted an attempt of its own since (it runs the row) or holds the lock.
        if row is None or row.attempts != counted or row.state in (State.SUCCEEDED, State.DEAD):
            return "busy"
        started = time.perf_counter()
        with transaction.atomic():
            outcome = _handler_run(row)
            if isinstance(outcome, Exception) and not isinstance(outcome, _KeptWritesFailure):
                transaction.set_rollback(True)  # a raising handler's writes are undone
        return _outcome_save(row, outcome, started)


def _handler_run(row: IntegrationLog) -> Any:
    """The handler's result, or the exception it ended with (a kept-writes failure for HandlerFailed)."""
    try:
        result = handler_for(row.target, row.kind)(row)
    except Exception as exc:  # the handler failed: the row is kept for the sweep
        return exc
    return _KeptWritesFailure(result.error) if isinstance(result, HandlerFailed) else result


def _outcome_save(row: IntegrationLog, outcome: Any, started: float) -> str:
    """Record one run's outcome on the locked row: succeeded, failed (with its backoff) or dead."""
    now = timezone.now()
    if isinstance(outcome, Exception):
        row.error = (str(outcome) if isinstance(outcome, _KeptWritesFailure)
                     else f"{type(outcome).__name__}: {outcome}")[:4000]
        if row.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            row.state = State.DEAD
            row.finished_at = now
        else:
            row.state = State.FAILED
            row.next_attempt_at = now + timedelta(seconds=backoff_seconds(row.attempts))
        logger.warning("outbox %s %s/%s failed (attempt %s): %s", row.pk, row.target, row.kind,
                       row.attempts, row.error)
    else:
        row.state = State.SUCCEEDED
        row.error = ""
        row.finished_at = now
        row.latency_ms = (row.finished_at - row.created_at).total_seconds() * 1000
        if isinstance(outcome, dict) and row.audit_level == "detailed":
            row.details = {**row.details, **outcome}
    row.duration_ms = (time.perf_counter() - started) * 1000
    row.save(update_fields=["state", "attempts", "error", "next_attempt_at", "finished_at",
                            "duration_ms", "latency_ms", "details", "updated_at"])
    metrics.outbox_finished(row=row)
    return row.state


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
