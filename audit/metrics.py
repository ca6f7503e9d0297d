"""Prometheus metrics, computed from the integration log at scrape time.

The log is the source of truth (every row, every process, every worker), so counting it at
scrape time needs no shared counter state across processes. One grouped SQL pass gives every
family; the result is cached for a few seconds so several scrapers cost one query.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import connection
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from audit.health import INTEGRATIONS, _matches
from audit.models import IntegrationHealth
from hvaccrm.models import IntegrationLog, IntegrationSwitch

# Seconds from commit to done: an outbox row normally runs in well under a second.
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
CACHE_KEY = "audit:metrics"
CACHE_SECONDS = 10
STATE_VALUE = {"green": 0, "amber": 1, "red": 2}


def _rows() -> list[tuple]:
    # The table name and the bounds are constants: nothing here comes from a request.
    bounds = ", ".join(str(b * 1000) for b in BUCKETS)
    table = IntegrationLog._meta.db_table
    bucket = f"width_bucket(latency_ms, ARRAY[{bounds}]::float8[])"
    sql = (
        f"SELECT source, target, state, CASE WHEN state = 'succeeded' AND latency_ms IS NOT NULL THEN {bucket} END, "  # noqa: S608
        f"count(*), coalesce(sum(latency_ms) FILTER (WHERE state = 'succeeded'), 0) FROM {table} GROUP BY 1, 2, 3, 4"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


class LogCollector:
    def __init__(self, rows: list[tuple], states: dict[str, str], off: set[str]) -> None:
        self.rows, self.states, self.off = rows, states, off

    def collect(self):
        totals = CounterMetricFamily("hvaccrm_integration_rows", "Outbox rows by integration and state",
                                     labels=["integration", "state"])
        backlog = GaugeMetricFamily("hvaccrm_integration_backlog", "Rows owed (pending or failed)",
                                    labels=["integration"])
        health = GaugeMetricFamily("hvaccrm_integration_health_state", "0 green, 1 amber, 2 red",
                                   labels=["integration"])
        switched = GaugeMetricFamily("hvaccrm_integration_switched_off", "1 when the target is switched off",
                                     labels=["target"])
        latency = HistogramMetricFamily("hvaccrm_integration_latency_seconds",
                                        "Seconds from commit to done, succeeded rows", labels=["integration"])
        for i in INTEGRATIONS:
            by_state: dict[str, int] = {}
            buckets = [0] * (len(BUCKETS) + 1)
            owed, total_ms, ok = 0, 0.0, 0
            for source, target, state, bucket, count, sum_ms in self.rows:
                if not _matches(i, source=source, target=target):
                    continue
                by_state[state] = by_state.get(state, 0) + count
                if state in ("pending", "failed"):
                    owed += count
                if bucket is not None:
                    # width_bucket: 0 below the first bound, n past the last; le-buckets are inclusive.
                    buckets[min(bucket, len(BUCKETS))] += count
                    total_ms += float(sum_ms)
                    ok += count
            for state in ("pending", "succeeded", "failed", "dead"):
                totals.add_metric([i.key, state], by_state.get(state, 0))
            backlog.add_metric([i.key], owed)
            health.add_metric([i.key], STATE_VALUE.get(self.states.get(i.key, "green"), 0))
            cumulative, running = [], 0
            for n, bound in enumerate(BUCKETS):
                running += buckets[n]
                cumulative.append((str(bound), running))
            cumulative.append(("+Inf", ok))
            latency.add_metric([i.key], cumulative, sum_value=total_ms / 1000)
        for target, _label in IntegrationLog._meta.get_field("target").choices:
            switched.add_metric([target], 1 if target in self.off else 0)
        yield from (totals, backlog, health, switched, latency)


def metrics_render() -> bytes:
    cached = cache.get(CACHE_KEY)
    if cached is not None:
        return cached
    states = dict(IntegrationHealth.objects.values_list("integration", "state"))
    off = set(IntegrationSwitch.objects.filter(enabled=False).values_list("target", flat=True))
    registry = CollectorRegistry()
    registry.register(LogCollector(_rows(), states, off))
    body = generate_latest(registry)
    cache.set(CACHE_KEY, body, timeout=CACHE_SECONDS)
    return body

