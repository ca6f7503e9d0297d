"""The Prometheus text of `/metrics`: the core's families (hvaccrm/metrics.py) and audit's
per-integration view of them.

Cheap at scrape time whatever the log's size: handler runs and latencies are counters kept in Redis
by the outbox as rows finish (hvaccrm.metrics), read in one pipelined round trip; the backlog is one
aggregate query over owed and dead rows only (partial indexes), not over the millions of finished
rows. The body is cached for a few seconds so several scrapers cost one pass.
"""

from __future__ import annotations

import json

from django.core.cache import cache
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from audit.health import INTEGRATIONS, _matches, health_cached
from audit.models import IntegrationHealth
from hvaccrm import metrics as core
from hvaccrm.models import IntegrationLog, IntegrationSwitch

CACHE_KEY = "audit:metrics"
CACHE_SECONDS = 5
STATE_VALUE = {"green": 0, "amber": 1, "red": 2}


class IntegrationCollector:
    """The five integrations of the health table (audit.health.INTEGRATIONS), from the core's
    counters and backlog rows, plus their health state, switches and the vector store's probe."""

    def __init__(self, *, read: dict, owed: list[tuple], states: dict[str, str], off: set[str],
                 vector_up: bool | None) -> None:
        self.read, self.owed, self.states, self.off, self.vector_up = read, owed, states, off, vector_up

    def collect(self):
        runs = CounterMetricFamily("hvaccrm_integration_rows", "Outbox handler runs by integration and outcome",
                                   labels=["integration", "state"])
        backlog = GaugeMetricFamily("hvaccrm_integration_backlog", "Rows owed (pending or failed)",
                                    labels=["integration"])
        health = GaugeMetricFamily("hvaccrm_integration_health_state", "0 green, 1 amber, 2 red",
                                   labels=["integration"])
        threshold = GaugeMetricFamily("hvaccrm_integration_success_threshold_ratio",
                                      "The success rate an integration must keep (0-1)", labels=["integration"])
        switched = GaugeMetricFamily("hvaccrm_integration_switched_off", "1 when the target is switched off",
                                     labels=["target"])
        latency = HistogramMetricFamily("hvaccrm_integration_latency_seconds",
                                        "Seconds from commit to done, succeeded rows", labels=["integration"])
        vector = GaugeMetricFamily("hvaccrm_vector_store_up",
                                   "1 when the vector store answered the last health run's probe")
        attempts = {tuple(json.loads(f)): v for f, v in self.read.get("hvaccrm_outbox_attempts", {}).items()}
        series = core.histogram_series(core.FAMILIES["hvaccrm_outbox_latency_seconds"],
                                        self.read.get("hvaccrm_outbox_latency_seconds", {}))
        for i in INTEGRATIONS:
            by_state = {"succeeded": 0.0, "failed": 0.0, "dead": 0.0}
            for (source, target, state), n in attempts.items():
                if state in by_state and _matches(i, source=source, target=target):
                    by_state[state] += n
            for state, n in by_state.items():
                runs.add_metric([i.key, state], n)
            backlog.add_metric([i.key], sum(r[3] for r in self.owed if _matches(i, source=r[0], target=r[1])))
            health.add_metric([i.key], STATE_VALUE.get(self.states.get(i.key, "green"), 0))
            threshold.add_metric([i.key], i.threshold / 100)
            buckets, total = core.histogram_merge(series, lambda v, i=i: _matches(i, source=v[0], target=v[1]))
            cumulative = [(str(b), buckets.get(str(b), 0)) for b in core.OUTBOX_BUCKETS]
            latency.add_metric([i.key], [*cumulative, ("+Inf", buckets.get("+Inf", 0))], sum_value=total)
        for target, _label in IntegrationLog._meta.get_field("target").choices:
            switched.add_metric([target], 1 if target in self.off else 0)
        if self.vector_up is not None:
            vector.add_metric([], 1 if self.vector_up else 0)
        yield from (runs, backlog, health, threshold, switched, latency, vector)


def metrics_render() -> bytes:
    cached = cache.get(CACHE_KEY)
    if cached is not None:
        return cached
    states = dict(IntegrationHealth.objects.values_list("integration", "state"))
    off = set(IntegrationSwitch.objects.filter(enabled=False).values_list("target", flat=True))
    read, owed = core.counters_read(), core.outbox_owed()
    last = health_cached() or {}
    registry = CollectorRegistry()
    registry.register(core.CounterCollector(read))
    registry.register(core.OutboxCollector(owed))
    registry.register(IntegrationCollector(read=read, owed=owed, states=states, off=off,
                                           vector_up=(last.get("backends") or {}).get("vector_store")))
    body = generate_latest(registry)
    cache.set(CACHE_KEY, body, timeout=CACHE_SECONDS)
    return body
