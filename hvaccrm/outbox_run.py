"""Running outbox rows: the handler registry per (target, kind) and `outbox_process`, which runs
one row's handler once and records its outcome.

Apart from `hvaccrm.services.outbox` (record, publish, sweep, retry) so that the Celery tasks that
run rows (`hvaccrm.tasks_outbox`) import this module and the publishing service imports those
tasks, both at the top: the publish -> task -> process chain has no import cycle.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from hvaccrm import metrics
from hvaccrm.models import IntegrationLog, IntegrationSwitch

logger = logging.getLogger("hvaccrm.services.outbox")
State = IntegrationLog.State

Handler = Callable[[IntegrationLog], Any]
PayloadCheck = Callable[[dict], None]
_handlers: dict[tuple[str, str], Handler] = {}
_payload_checks: dict[tuple[str, str], PayloadCheck] = {}
# The Celery queue of a (target, kind) whose rows must not wait behind other work (emergencies);
# every other row goes to the default queue.
_queues: dict[tuple[str, str], str] = {}
# The (target, kind)s whose handler commits its own steps and runs outside the row's transaction.
_own_transactions: set[tuple[str, str]] = set()


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

    A run that lost its database connection (the server went away, the connection was cut) gives
    its attempt back: a database outage is not the row's fault and must not make it dead. A refund
    is itself bounded (`OUTBOX_MAX_CONNECTION_LOSSES`, counted in the row's details), so a handler
    that always breaks its connection still ends dead; a run whose connection stays usable (a
    statement timeout, a constraint) counts its attempt as any other failure.
    """
    counted: list[int] = []
    try:
        return _process(log_id, counted)
    except DatabaseError:
        if not counted or not _connection_lost(counted[1]):
            raise
        return _attempt_refund(log_id, counted[0])


def _connection_lost(raw: Any) -> bool:
    # The connection the attempt was counted on: psycopg marks it closed once it is cut (Django may
    # already have opened another by the time the error reaches here).
    return raw is None or raw.closed or getattr(raw, "broken", False)


def _attempt_refund(log_id: int, counted: int) -> str:
    """Give back the attempt a lost connection cost, on a new connection; re-raises if it cannot."""
    connection.close()
    row = IntegrationLog.objects.filter(pk=log_id).only("details").first()
    losses = int((row.details or {}).get("connection_losses", 0)) if row else 0
    if row is None or losses >= settings.OUTBOX_MAX_CONNECTION_LOSSES:
        logger.warning("outbox %s: database connection lost; attempt %s kept (%s losses)", log_id, counted, losses)
        return "connection_lost"
    now = timezone.now()
    refunded = IntegrationLog.objects.filter(
        pk=log_id, attempts=counted, state__in=(State.PENDING, State.FAILED),
    ).update(attempts=F("attempts") - 1, state=State.FAILED, updated_at=now,
             next_attempt_at=now + timedelta(seconds=backoff_seconds(1)),
             error="the database connection was lost during the run; the attempt was not counted",
             details={**(row.details or {}), "connection_losses": losses + 1})
    logger.warning("outbox %s: database connection lost; attempt %s %s", log_id, counted,
                   "given back" if refunded else "already settled")
    return "connection_lost"


def _process(log_id: int, counted_out: list[int]) -> str:
    """The body of `outbox_process`: count the attempt (reported in counted_out with the database
    connection it was counted on), run, record.

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
    counted_out.extend((counted, connection.connection))
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
