"""Audit benchmarks (run by bench/run_all.py after migrate, or alone):

1. the audit report over 1,000,000 integration-log rows (goal < 500 ms on PostgreSQL);
2. the data consistency report over 100,000 messages (goal < 5 s);
3. backlog drain: objects per second processed by ONE worker process from a backlog of 10,000.

Rows are bulk-inserted with generate_series and all marked (source 'bench-audit', a client named
'[bench-audit]'); everything is deleted at the end, also after a failure.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hvaccrm.settings")
os.environ.setdefault("DEBUG", "true")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from audit.consistency import get_data_consistency_report  # noqa: E402
from audit.selectors import get_audit_report  # noqa: E402
from hvaccrm.models import Client, District, IntegrationLog, ServiceJob, Site  # noqa: E402
from hvaccrm.services import outbox  # noqa: E402

SOURCE = "bench-audit"
LOG_ROWS = 1_000_000
MESSAGES = 100_000
BACKLOG = 10_000


def sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def timed(fn, runs: int = 5) -> tuple[float, float]:
    fn()  # warm-up: plans, caches, the vector store's probe
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def cleanup() -> None:
    sql("DELETE FROM hvaccrm_integrationlog WHERE source = %s", [SOURCE])
    sql("DELETE FROM prophecy_storedvector WHERE text = %s", [SOURCE])
    clients = list(Client.objects.filter(name="[bench-audit]").values_list("pk", flat=True))
    if clients:
        sql("DELETE FROM communications_message WHERE conversation_id IN "
            "(SELECT id FROM communications_conversation WHERE client_id = ANY(%s))", [clients])
        sql("DELETE FROM communications_conversation WHERE client_id = ANY(%s)", [clients])
        sql("DELETE FROM hvaccrm_integrationlog WHERE object_type = 'hvaccrm.servicejob' AND object_id IN "
            "(SELECT id::text FROM hvaccrm_servicejob WHERE client_id = ANY(%s))", [clients])
        ServiceJob.objects.filter(client_id__in=clients).delete()
        Site.objects.filter(client_id__in=clients).delete()
        Client.objects.filter(pk__in=clients).delete()


def bench_audit_report() -> None:
    started = time.perf_counter()
    # 30 days of history: targets and sources as the system writes them, 97 % succeeded,
    # latencies from 20 ms to a few seconds, a few hundred owed and failed rows.
    sql("""
        INSERT INTO hvaccrm_integrationlog (source, target, kind, object_type, object_id, payload, audit_level,
            details, state, attempts, next_attempt_at, duration_ms, latency_ms, error, created_at, updated_at,
            finished_at)
        SELECT %s,
               (ARRAY['map', 'prophecy', 'notifications', 'portal', 'notifications'])[1 + i %% 5],
               (ARRAY['job.updated', 'message.created', 'delivery.send', 'booking.created', 'job.created'])[1 + i %% 5],
               'hvaccrm.servicejob', (i %% 50000)::text, '{}'::jsonb, 'basic', '{}'::jsonb,
               CASE WHEN i %% 1000 = 0 THEN 'pending' WHEN i %% 97 = 0 THEN 'failed'
                    WHEN i %% 331 = 0 THEN 'dead' ELSE 'succeeded' END,
               1, now(), 5 + (i %% 200), 20 + (i::bigint * 7919 %% 3000),
               CASE WHEN i %% 97 = 0 OR i %% 331 = 0 THEN 'RuntimeError: bench' ELSE '' END,
               now() - ((i %% 43200) * interval '1 minute'), now(), now()
        FROM generate_series(1, %s) AS i
    """, [SOURCE, LOG_ROWS])
    sql("VACUUM ANALYZE hvaccrm_integrationlog")
    print(f"audit report: inserted {LOG_ROWS:,} log rows in {time.perf_counter() - started:.1f} s")
    median, worst = timed(get_audit_report)
    total = IntegrationLog.objects.count()
    print(f"audit report over {total:,} integration-log rows: median {median:.0f} ms, worst {worst:.0f} ms "
          f"(goal < 500 ms) {'OK' if median < 500 else 'SLOW'}")
    sql("DELETE FROM hvaccrm_integrationlog WHERE source = %s", [SOURCE])


def bench_consistency_report() -> None:
    district = District.objects.get(slug="mokotow")
    client = Client.objects.create(name="[bench-audit]", email="bench-audit@bench.invalid", is_synthetic=True)
    started = time.perf_counter()
    sql("""INSERT INTO communications_conversation (client_id, channel, subject, created_at, last_message_at)
           VALUES (%s, 'portal', 'bench', now(), now())""", [client.pk])
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM communications_conversation WHERE client_id = %s", [client.pk])
        conversation = cursor.fetchone()[0]
    sql("""
        INSERT INTO communications_message (conversation_id, author_role, body, language, urgency, service_types,
            classification, created_at, district_id)
        SELECT %s, 'client', 'Klimatyzacja nie chłodzi ' || i, 'pl',
               CASE WHEN i %% 500 = 0 THEN 'emergency' ELSE 'normal' END, '["repair"]'::jsonb, '{}'::jsonb,
               now() - ((i %% 20000) * interval '1 minute'), %s
        FROM generate_series(1, %s) AS i
    """, [conversation, district.pk, MESSAGES])
    # Every message has its vector-store row and its stored vector, except one in a thousand: the
    # report must find those among 100,000 that are in step.
    sql("""
        INSERT INTO hvaccrm_integrationlog (source, target, kind, object_type, object_id, payload, audit_level,
            details, state, attempts, next_attempt_at, error, created_at, updated_at)
        SELECT %s, 'prophecy', 'message.created', 'communications.message', m.id::text, '{}'::jsonb, 'basic',
               '{}'::jsonb, 'succeeded', 1, now(), '', m.created_at, now()
        FROM communications_message m WHERE m.conversation_id = %s AND m.id %% 1000 <> 7
    """, [SOURCE, conversation])
    sql("""
        INSERT INTO prophecy_storedvector (id, object_type, object_id, vector, dim, district, service_type, created,
            client_id, text, keywords, properties, version)
        SELECT md5('communications.message:' || m.id)::uuid, 'communications.message', m.id::text, '\\x00'::bytea, 1,
               'mokotow', 'repair', m.created_at, %s, %s, '{}', '{}'::jsonb, 0
        FROM communications_message m WHERE m.conversation_id = %s AND m.id %% 1000 <> 3
    """, [client.pk, SOURCE, conversation])
    sql("ANALYZE communications_message")
    sql("ANALYZE hvaccrm_integrationlog")
    sql("ANALYZE prophecy_storedvector")
    print(f"consistency report: inserted {MESSAGES:,} messages with logs and vectors in "
          f"{time.perf_counter() - started:.1f} s")
    report = get_data_consistency_report(grace_seconds=0)
    counts = {f["kind"]: f["count"] for f in report["findings"]}
    median, worst = timed(lambda: get_data_consistency_report(grace_seconds=0), runs=3)
    print(f"consistency report over {MESSAGES:,} messages: median {median:.0f} ms, worst {worst:.0f} ms "
          f"(goal < 5000 ms) {'OK' if median < 5000 else 'SLOW'}; findings {counts}")


def bench_backlog_drain() -> None:
    """One worker process (solo pool) drains 10,000 owed rows published by the sweep. The rows are
    map updates of a job planned next month (a real handler run that ends in 'nothing to re-plan'),
    so the figure is the outbox's own cost per object: lock, handler, state write, commit."""
    client = Client.objects.get(name="[bench-audit]")
    district = District.objects.get(slug="mokotow")
    site = Site.objects.create(client=client, street="ul. Benchowa 1", latitude=52.19, longitude=21.02,
                               district=district)
    job = ServiceJob.objects.create(client=client, site=site, service_type="repair", latitude=52.19, longitude=21.02,
                                    district=district, is_synthetic=True)
    sql("""
        INSERT INTO hvaccrm_integrationlog (source, target, kind, object_type, object_id, payload, audit_level,
            details, state, attempts, next_attempt_at, error, created_at, updated_at)
        SELECT %s, 'map', 'job.updated', 'hvaccrm.servicejob', %s, jsonb_build_object('job', %s, 'change', 'status',
               'scheduled_start', (now() + interval '30 days')::text), 'basic', '{}'::jsonb, 'pending', 0,
               now() - interval '1 hour', '', now() - interval '1 hour', now()
        FROM generate_series(1, %s)
    """, [SOURCE, str(job.pk), job.pk, BACKLOG])
    queue = f"bench-audit-{uuid.uuid4().hex[:6]}"
    from hvaccrm.celery import app

    app.conf.task_default_queue = queue
    app.conf.task_always_eager = False
    ids = list(IntegrationLog.objects.filter(source=SOURCE, state="pending", target="map").values_list("id", flat=True))
    started = time.perf_counter()
    outbox.outbox_publish(log_ids=ids)  # the backlog is queued before the worker starts
    print(f"backlog drain: {len(ids):,} rows published in {time.perf_counter() - started:.1f} s")
    # CONN_MAX_AGE as a production worker runs (docs/operations.md): without it every task opens
    # a new database connection, which is most of the cost of a small task.
    env = {**os.environ, "CELERY_QUEUE": queue, "CELERY_TASK_ALWAYS_EAGER": "false",
           "CONN_MAX_AGE": os.environ.get("CONN_MAX_AGE", "600")}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "hvaccrm", "worker", "-Q", queue, "-P", "solo", "-c", "1",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "WARNING", "-n", f"{queue}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        done = lambda: IntegrationLog.objects.filter(pk__in=ids, state="succeeded").count()  # noqa: E731
        deadline = time.monotonic() + 60
        while done() == 0 and time.monotonic() < deadline:
            time.sleep(0.2)  # the worker's start-up is not part of the figure
        first, t0 = done(), time.perf_counter()
        window = 40.0
        count = first
        while time.perf_counter() - t0 < window:
            time.sleep(1.0)
            count = done()
            if count >= len(ids):
                break
        elapsed = time.perf_counter() - t0
        rate = (count - first) / elapsed if elapsed else 0.0
        print(f"backlog drain by one worker (solo pool, CONN_MAX_AGE={env['CONN_MAX_AGE']}): {count - first:,} rows "
              f"in {elapsed:.1f} s = {rate:.0f} objects/s; {count:,}/{len(ids):,} done"
              + ("" if count >= len(ids) else f" (the rest would take about {(len(ids) - count) / max(rate, 1):.0f} s more)"))
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)
            # a task in flight when the worker stopped is put back; the queue's binding keys stay too
            conn.default_channel.client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


def main() -> int:
    print(f"database: {settings.DATABASES['default']['NAME']}; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores (the figures scale with it)")
    cleanup()
    try:
        bench_audit_report()
        bench_consistency_report()
        bench_backlog_drain()
    finally:
        cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
