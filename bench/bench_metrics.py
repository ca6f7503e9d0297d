"""Metrics benchmark (run by bench/run_all.py after migrate, or alone): one scrape of `/metrics`
with 1,000,000 integration-log rows (goal < 200 ms).

Rows are bulk-inserted with generate_series, marked with source 'bench-metrics' (97 % succeeded,
the rest pending, failed or dead across targets and kinds) and deleted at the end, also after a
failure. The Redis counters get every family with realistic label sets. Each scrape is uncached
(the body's 5-second cache is dropped first) and goes through the view with the bearer token.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hvaccrm.settings")
os.environ.setdefault("DEBUG", "true")
os.environ["METRICS_TOKEN"] = "bench-metrics-token"
django.setup()

from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from audit.metrics import CACHE_KEY  # noqa: E402
from hvaccrm import metrics  # noqa: E402

SOURCE = "bench-metrics"
ROWS = 1_000_000
GOAL_MS = 200.0


def sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def seed_counters() -> None:
    for tier in ("high", "medium", "low"):
        metrics.cache_lookup(cache=f"district_{tier}", hits=90, misses=10)
    for cache_name in ("embeddings", "search"):
        metrics.cache_lookup(cache=cache_name, hits=50, misses=50)
    for source in ("vector", "hybrid", "keyword", "cache"):
        for i in range(20):
            metrics.histogram_observe("hvaccrm_search_duration_seconds", 0.002 * (i + 1), backend="embedded",
                                      source=source)
            metrics.histogram_observe("hvaccrm_search_results", i % 11, backend="embedded", source=source)
    for channel in ("in_app", "email", "sms", "telegram"):
        for state in ("sent", "failed", "dead"):
            metrics.delivery_outcome(channel=channel, state=state)
    for urgency in ("emergency", "high", "normal", "low"):
        metrics.counter_inc("hvaccrm_classifier_decisions", urgency=urgency)
    for source, target in (("communications", "map"), ("communications", "prophecy"), ("core", "notifications"),
                           ("portal", "portal"), ("prophecy", "notifications")):
        for state in ("succeeded", "failed", "dead"):
            metrics.counter_inc("hvaccrm_outbox_attempts", 100, source=source, target=target, state=state)
        for i in range(30):
            metrics.histogram_observe("hvaccrm_outbox_latency_seconds", 0.03 * i, source=source, target=target)


def main() -> int:
    started = time.perf_counter()
    try:
        sql("""
            INSERT INTO hvaccrm_integrationlog (source, target, kind, object_type, object_id, payload, audit_level,
                details, state, attempts, next_attempt_at, duration_ms, latency_ms, error, created_at, updated_at,
                finished_at)
            SELECT %s, (ARRAY['map', 'prophecy', 'notifications', 'portal'])[1 + g %% 4],
                   (ARRAY['message.created', 'job.updated', 'emergency.alert', 'delivery.send'])[1 + g %% 7 %% 4],
                   '', '', '{}', 'basic', '{}',
                   CASE WHEN g %% 1000 = 0 THEN 'pending' WHEN g %% 1000 = 1 THEN 'failed'
                        WHEN g %% 5000 = 2 THEN 'dead' ELSE 'succeeded' END,
                   1, now(), 5, 20 + g %% 3000, '', now() - (g || ' seconds')::interval, now(), now()
            FROM generate_series(1, %s) g
        """, [SOURCE, ROWS])
        sql("ANALYZE hvaccrm_integrationlog")
        print(f"inserted {ROWS:,} log rows in {time.perf_counter() - started:.1f} s")
        seed_counters()
        client = Client(HTTP_HOST="localhost")
        headers = {"Authorization": "Bearer bench-metrics-token"}
        times = []
        for run in range(11):
            cache.delete(CACHE_KEY)
            t0 = time.perf_counter()
            response = client.get("/metrics", headers=headers)
            elapsed = (time.perf_counter() - t0) * 1000
            assert response.status_code == 200, response.status_code
            if run:  # the first run warms plans and connections
                times.append(elapsed)
        body = response.content.decode()
        median, worst = statistics.median(times), max(times)
        print(f"scrape of /metrics over {ROWS:,} rows, uncached: median {median:.1f} ms, max {worst:.1f} ms "
              f"({len(body.splitlines())} lines, {len(body):,} bytes); goal < {GOAL_MS:.0f} ms")
        return 0 if median < GOAL_MS else 1
    finally:
        sql("DELETE FROM hvaccrm_integrationlog WHERE source = %s", [SOURCE])


if __name__ == "__main__":
    sys.exit(main())
