from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hvaccrm.models import AccessRecord, IntegrationLog
from hvaccrm.services import outbox
from hvaccrm.services.outbox import (
    integration_switch_set,
    outbox_handler,
    outbox_process,
    outbox_sweep,
    record,
    record_many,
)

pytestmark = pytest.mark.django_db

calls: list[int] = []


@pytest.fixture(autouse=True)
def _test_handlers():
    calls.clear()
    saved = dict(outbox._handlers)

    @outbox_handler("audit", "test.effect")
    def effect(row):
        # Idempotent by design: the effect is keyed by the row, so a second run adds nothing.
        if row.pk not in calls:
            calls.append(row.pk)
        return {"ok": True}

    @outbox_handler("audit", "test.soft_fail")
    def soft_fail(row):
        AccessRecord.objects.create(action="change", object_type="test.delivery", object_id=str(row.pk), purpose="attempt recorded")
        return outbox.HandlerFailed("gateway timed out")

    @outbox_handler("audit", "test.boom")
    def boom(row):
        raise RuntimeError("gateway down")

    yield
    outbox._handlers.clear()
    outbox._handlers.update(saved)


def _record(kind="test.effect", target="audit"):
    with transaction.atomic():
        return record(source="test", target=target, kind=kind, object_type="test", object_id=1)


def test_a_service_that_raises_after_record_leaves_no_row():
    with pytest.raises(ValueError), transaction.atomic():
        record(source="test", target="audit", kind="test.effect", object_type="test", object_id=1)
        raise ValueError("the change failed")
    assert IntegrationLog.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_record_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside transaction"):
        record(source="test", target="audit", kind="test.effect")


def test_the_row_is_published_after_commit_and_succeeds(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        row = _record()
    row.refresh_from_db()
    assert row.state == "succeeded" and row.attempts == 1
    assert calls == [row.pk]


def test_record_many_writes_its_rows_in_one_insert_and_publishes_each_once_in_order(
        django_capture_on_commit_callbacks):
    entries = [dict(source="test", target="audit", kind="test.effect", object_type="test", object_id=n)
               for n in (1, 2, 3)]
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            rows = record_many(entries)
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    assert calls == [row.pk for row in rows]  # published once each, in the order given
    assert [r.object_id for r in IntegrationLog.objects.order_by("id")] == ["1", "2", "3"]
    assert set(IntegrationLog.objects.values_list("state", "attempts")) == {("succeeded", 1)}


@pytest.mark.django_db(transaction=True)
def test_record_many_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside transaction"):
        record_many([dict(source="test", target="audit", kind="test.effect")])
    assert not IntegrationLog.objects.exists()


def test_the_sweep_publishes_a_row_whose_publish_was_lost(settings):
    settings.OUTBOX_PUBLISH_ON_COMMIT = False  # as if the broker had been down at commit
    row = _record()
    IntegrationLog.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    assert IntegrationLog.objects.get(pk=row.pk).state == "pending"
    assert outbox_sweep() == 1
    assert IntegrationLog.objects.get(pk=row.pk).state == "succeeded"
    assert calls == [row.pk]


def test_a_task_run_twice_has_one_effect(settings):
    settings.OUTBOX_PUBLISH_ON_COMMIT = False
    row = _record()
    assert outbox_process(log_id=row.pk) == "succeeded"
    assert outbox_process(log_id=row.pk) == "succeeded"
    assert calls == [row.pk]
    assert IntegrationLog.objects.get(pk=row.pk).attempts == 1


def test_a_failing_handler_is_retried_with_backoff_then_parked_as_dead(settings):
    settings.OUTBOX_PUBLISH_ON_COMMIT = False
    settings.OUTBOX_MAX_ATTEMPTS = 3
    row = _record(kind="test.boom")
    before = timezone.now()
    assert outbox_process(log_id=row.pk) == "failed"
    row.refresh_from_db()
    assert "gateway down" in row.error
    assert row.next_attempt_at > before + timedelta(seconds=settings.OUTBOX_BACKOFF_BASE * 0.5 - 1)
    assert outbox_sweep() == 0  # not due yet
    IntegrationLog.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert outbox_process(log_id=row.pk) == "failed"
    IntegrationLog.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert outbox_process(log_id=row.pk) == "dead"
    assert outbox_process(log_id=row.pk) == "dead"  # nothing more happens to a dead row


def test_backoff_grows_exponentially_with_jitter(settings):
    settings.OUTBOX_BACKOFF_BASE = 10
    settings.OUTBOX_BACKOFF_MAX = 10_000
    for attempt in range(1, 6):
        value = outbox.backoff_seconds(attempt)
        assert 10 * 2 ** (attempt - 1) * 0.5 <= value <= 10 * 2 ** (attempt - 1)


def test_a_switched_off_target_keeps_its_rows_pending_then_runs_them_when_switched_on(django_capture_on_commit_callbacks):
    integration_switch_set(target="audit", enabled=False, reason="bad release")
    with django_capture_on_commit_callbacks(execute=True):
        row = _record()
    IntegrationLog.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    assert IntegrationLog.objects.get(pk=row.pk).state == "pending"
    assert outbox_sweep() == 0
    assert calls == []
    with django_capture_on_commit_callbacks(execute=True):
        integration_switch_set(target="audit", enabled=True)
    assert IntegrationLog.objects.get(pk=row.pk).state == "succeeded"
    assert calls == [row.pk]


def test_a_row_with_no_registered_handler_fails_with_a_clear_error(settings):
    settings.OUTBOX_PUBLISH_ON_COMMIT = False
    row = _record(kind="test.unknown", target="audit")
    assert outbox_process(log_id=row.pk) == "failed"
    assert "no outbox handler" in IntegrationLog.objects.get(pk=row.pk).error


def test_a_handler_that_reports_failure_keeps_its_own_writes_and_is_retried(settings):
    settings.OUTBOX_PUBLISH_ON_COMMIT = False
    row = _record(kind="test.soft_fail")
    assert outbox_process(log_id=row.pk) == "failed"
    row.refresh_from_db()
    assert row.error == "gateway timed out" and row.attempts == 1
    assert AccessRecord.objects.filter(object_type="test.delivery", object_id=str(row.pk)).count() == 1


def _run_in_a_process_that_may_die(log_id: int) -> int:
    """outbox_process in a forked worker process; returns its exit code (the handler may kill it)."""
    import multiprocessing

    from django.db import connections

    connections.close_all()  # the child opens its own connection; it must not share this socket

    def child():
        outbox_process(log_id=log_id)
        connections.close_all()

    proc = multiprocessing.get_context("fork").Process(target=child)
    proc.start()
    proc.join(60)
    return proc.exitcode


@pytest.mark.django_db(transaction=True)
def test_a_row_whose_handler_kills_the_worker_ends_dead_after_its_attempts(settings):
    # The attempt is counted in its own committed transaction before the handler runs: a handler
    # that takes the process down cannot roll the count back, so the row cannot crash-loop the worker.
    import os

    settings.OUTBOX_PUBLISH_ON_COMMIT = False
    settings.OUTBOX_MAX_ATTEMPTS = 3
    outbox_handler("audit", "test.exit")(lambda row: os._exit(3))
    row = _record(kind="test.exit")
    codes = [_run_in_a_process_that_may_die(row.pk) for _ in range(4)]
    row.refresh_from_db()
    assert codes == [3, 3, 3, 0]
    assert (row.state, row.attempts) == ("dead", 3)
    assert "worker" in row.error


def _cut_own_connection(row):
    # What a database restart or a cut connection does to a running handler (fault suite 3).
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")


@pytest.mark.django_db(transaction=True)
def test_a_run_that_loses_its_database_connection_gives_its_attempt_back(settings):
    settings.OUTBOX_PUBLISH_ON_COMMIT = False
    settings.OUTBOX_MAX_ATTEMPTS = 2
    outbox_handler("audit", "test.cut")(_cut_own_connection)
    row = _record(kind="test.cut")
    for _ in range(3):  # more cuts than attempts: none of them counts
        assert outbox_process(log_id=row.pk) == "connection_lost"
        row.refresh_from_db()
        assert (row.state, row.attempts) == ("failed", 0)
        assert "connection was lost" in row.error
    assert row.details["connection_losses"] == 3
    outbox_handler("audit", "test.cut")(lambda r: {"ok": True})  # the database is back
    IntegrationLog.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert outbox_process(log_id=row.pk) == "succeeded"
    row.refresh_from_db()
    assert row.attempts == 1


@pytest.mark.django_db(transaction=True)
def test_a_handler_that_always_breaks_its_connection_still_ends_dead(settings):
    settings.OUTBOX_PUBLISH_ON_COMMIT = False
    settings.OUTBOX_MAX_ATTEMPTS = 2
    settings.OUTBOX_MAX_CONNECTION_LOSSES = 1
    outbox_handler("audit", "test.cut")(_cut_own_connection)
    row = _record(kind="test.cut")
    states = [outbox_process(log_id=row.pk) for _ in range(4)]
    row.refresh_from_db()
    assert states[-1] == "dead"
    assert (row.state, row.details["connection_losses"]) == ("dead", 1)


@pytest.mark.django_db(transaction=True)
def test_a_statement_timeout_counts_its_attempt_as_any_failure(settings):
    settings.OUTBOX_PUBLISH_ON_COMMIT = False

    def slow(row):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 10")
            cursor.execute("SELECT pg_sleep(1)")

    outbox_handler("audit", "test.slow")(slow)
    row = _record(kind="test.slow")
    assert outbox_process(log_id=row.pk) == "failed"
    row.refresh_from_db()
    assert row.attempts == 1
    assert "connection_losses" not in row.details
