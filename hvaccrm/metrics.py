"""The product's Prometheus metrics: every family's definition, the helpers that count, the collectors.

Why counters in Redis rather than prometheus-client's multiprocess mode: the web server, the Celery
workers and beat are separate processes that production runs on separate machines (containers), and
only the web server answers `/metrics`. A multiprocess directory is per machine, so a worker's counts
would never reach the scrape; Redis is already what every process shares (cache, broker, channel
layer). An observation is one pipelined round trip (HINCRBY, and for a histogram HINCRBYFLOAT of
its sum) to the Redis the process already talks to; a scrape is one pipeline of HGETALLs, one per
family, whatever the traffic. prometheus-client still builds the families and the text format.

Counting never breaks the product: a Redis error is logged and the observation is dropped.

Apps call the helpers below (one line at their single entry point); the core owns the names.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from typing import Any

import redis
from django.conf import settings
from django.db import connection, transaction
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

logger = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Seconds from commit to done: an outbox row normally runs in well under a second.
OUTBOX_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
RESULT_BUCKETS = (0, 1, 5, 10, 20, 50, 100)
# The budget of one semantic search (docs/prophecy.md); the alert rule and the dashboard use it.
SEARCH_P95_BUDGET_S = 0.5
EMERGENCY_QUEUE = "emergency.alert"


@dataclass(frozen=True)
class Family:
    name: str  # without the _total suffix of a counter
    help: str
    labels: tuple[str, ...]
    buckets: tuple[float, ...] | None = None  # a histogram when set

    @property
    def exported(self) -> set[str]:
        """The sample names Prometheus stores for this family."""
        if self.buckets is not None:
            return {f"{self.name}_bucket", f"{self.name}_count", f"{self.name}_sum"}
        return {f"{self.name}_total"}


FAMILIES = {f.name: f for f in (
    Family("hvaccrm_cache_requests", "Cache lookups by cache and result (hit or miss)", ("cache", "result")),
    Family("hvaccrm_search_duration_seconds", "Semantic search time by backend and answer source",
           ("backend", "source"), LATENCY_BUCKETS),
    Family("hvaccrm_search_results", "Results per semantic search by backend and answer source",
           ("backend", "source"), RESULT_BUCKETS),
    Family("hvaccrm_embedding_duration_seconds", "Time to embed the texts a cache did not hold",
           ("provider",), LATENCY_BUCKETS),
    Family("hvaccrm_embedded_texts", "Texts embedded (cache misses) by provider", ("provider",)),
    Family("hvaccrm_deliveries", "Delivery attempts' outcomes by channel and state", ("channel", "state")),
    Family("hvaccrm_socket_connections", "Socket connections by outcome (accepted or refused)", ("outcome",)),
    Family("hvaccrm_socket_disconnections", "Accepted socket connections that closed", ()),
    Family("hvaccrm_socket_pushes", "Events pushed to sockets by event type", ("event",)),
    Family("hvaccrm_classifier_decisions", "Triage classifier decisions by urgency", ("urgency",)),
    Family("hvaccrm_outbox_attempts", "Outbox handler runs by source, target and outcome",
           ("source", "target", "state")),
    Family("hvaccrm_outbox_latency_seconds", "Seconds from commit to done, succeeded outbox rows",
           ("source", "target"), OUTBOX_BUCKETS),
)}
# Computed at scrape time by the collectors below (gauges): name -> labels.
GAUGES = {
    "hvaccrm_outbox_backlog": ("target", "kind"),
    "hvaccrm_outbox_oldest_pending_age_seconds": ("target", "kind"),
    "hvaccrm_outbox_dead": ("target", "kind"),
}

_clients: dict[str, redis.Redis] = {}


def _redis() -> redis.Redis:
    url = settings.REDIS_URL
    if url not in _clients:
        # Short timeouts: a hung Redis must not hold a request for long for a counter.
        _clients[url] = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return _clients[url]


def _key(name: str) -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX', '')}:metrics:{name}"


def _field(values: tuple[str, ...], suffix: str = "") -> str:
    return json.dumps(values, separators=(",", ":")) + suffix


def _labels(family: Family, labels: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(labels.get(n, "")) for n in family.labels)


def counter_inc(name: str, amount: float = 1, **labels: Any) -> None:
    if amount <= 0:
        return
    family = FAMILIES[name]
    try:
        _redis().hincrbyfloat(_key(name), _field(_labels(family, labels)), amount)
    except Exception:  # Redis down, or no Django settings (a plain-Python caller): drop the count
        logger.debug("metric %s dropped", name, exc_info=True)


def counters_inc_many(counts: list[tuple[str, float, dict[str, Any]]]) -> None:
    """Several counter increments (name, amount, labels) in one pipelined round trip."""
    try:
        pipe = _redis().pipeline(transaction=False)
        for name, amount, labels in counts:
            if amount > 0:
                pipe.hincrbyfloat(_key(name), _field(_labels(FAMILIES[name], labels)), amount)
        pipe.execute()
    except Exception:  # as in counter_inc
        logger.debug("metrics %s dropped", sorted({c[0] for c in counts}), exc_info=True)


def histogram_observe(name: str, value: float, **labels: Any) -> None:
    """One bucket counted (not cumulative: the scrape adds them up), the sum and the count."""
    family = FAMILIES[name]
    assert family.buckets is not None
    values = _labels(family, labels)
    bucket = next((str(b) for b in family.buckets if value <= b), "+Inf")
    try:
        pipe = _redis().pipeline(transaction=False)
        pipe.hincrby(_key(name), _field(values, "|" + bucket), 1)
        pipe.hincrbyfloat(_key(name), _field(values, "|sum"), float(value))
        pipe.execute()
    except Exception:  # as in counter_inc
        logger.debug("metric %s dropped", name, exc_info=True)


# --- the helpers apps call at their entry points --------------------------------------------------
def cache_lookup(*, cache: str, hits: int, misses: int) -> None:
    counter_inc("hvaccrm_cache_requests", hits, cache=cache, result="hit")
    counter_inc("hvaccrm_cache_requests", misses, cache=cache, result="miss")


def district_cache_lookup(*, districts: list, missing: list) -> None:
    """The district caches, one per cache tier (their TTLs differ; the tier follows the district's
    weight): cache `district_<tier>`."""
    lost = {d.pk for d in missing}
    by_tier: dict[str, list[int]] = {}
    for d in districts:
        by_tier.setdefault(str(d.cache_tier), [0, 0])[d.pk in lost] += 1
    for tier, (hits, misses) in by_tier.items():
        cache_lookup(cache=f"district_{tier}", hits=hits, misses=misses)


def search_observed(*, backend: Callable[[], str]) -> Callable:
    """Decorates the one search entry point: its time, its result count, and the answer cache's
    hit (source `cache` on a healthy store) or miss, by backend and the answer's source."""

    def decorator(fn: Callable[..., dict]) -> Callable[..., dict]:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> dict:
            started = time.perf_counter()
            answer = fn(*args, **kwargs)
            if answer.get("query"):
                labels = {"backend": backend(), "source": answer.get("source", "")}
                histogram_observe("hvaccrm_search_duration_seconds", time.perf_counter() - started, **labels)
                histogram_observe("hvaccrm_search_results", len(answer.get("results") or ()), **labels)
                hit = answer.get("source") == "cache" and not answer.get("degraded")
                cache_lookup(cache="search", hits=int(hit), misses=int(not hit))
            return answer

        return wrapper

    return decorator


@contextmanager
def embedding_timer(*, provider: str, texts: int) -> Iterator[None]:
    started = time.perf_counter()
    yield
    histogram_observe("hvaccrm_embedding_duration_seconds", time.perf_counter() - started, provider=provider)
    counter_inc("hvaccrm_embedded_texts", texts, provider=provider)


def delivery_outcome(*, channel: str, state: str) -> None:
    """Counted at once, not after commit: a failed attempt's savepoint is rolled back by the outbox
    handler, yet the gateway was called."""
    counter_inc("hvaccrm_deliveries", channel=channel, state=state)


def socket_connection(*, accepted: bool) -> None:
    counter_inc("hvaccrm_socket_connections", outcome="accepted" if accepted else "refused")


def socket_closed(*, accepted: bool) -> None:
    """Every socket ends here: one the consumer refused counts as refused, an accepted one as closed."""
    if accepted:
        counter_inc("hvaccrm_socket_disconnections")
    else:
        socket_connection(accepted=False)


def socket_push(*, event: dict) -> None:
    """Called in the web process's event loop for every frame: buffered, written off that thread."""
    from hvaccrm.metrics_buffer import socket_pushes

    socket_pushes.add("hvaccrm_socket_pushes", event=str(event.get("type", "")) if isinstance(event, dict) else "")


def outbox_finished(*, row: Any) -> None:
    """One handler run of an outbox row, counted after commit (a rolled-back run never ran)."""
    source, target, state, latency_ms = row.source, row.target, row.state, row.latency_ms

    def count() -> None:
        counter_inc("hvaccrm_outbox_attempts", source=source, target=target, state=state)
        if state == "succeeded" and latency_ms is not None:
            histogram_observe("hvaccrm_outbox_latency_seconds", latency_ms / 1000, source=source, target=target)

    transaction.on_commit(count)


# --- scrape ---------------------------------------------------------------------------------------
def counters_read() -> dict[str, dict[str, float]]:
    """Every family's hash in one pipelined round trip: {family: {field: value}}."""
    pipe = _redis().pipeline(transaction=False)
    for name in FAMILIES:
        pipe.hgetall(_key(name))
    out = {}
    for name, raw in zip(FAMILIES, pipe.execute(), strict=True):
        out[name] = {k.decode(): float(v) for k, v in raw.items()}
    return out


def histogram_series(family: Family, raw: dict[str, float]) -> dict[tuple[str, ...], tuple[list, float]]:
    """{labels: ([(le, cumulative)], sum)} from the per-bucket counts."""
    per: dict[tuple[str, ...], dict[str, float]] = {}
    for field, value in raw.items():
        values, suffix = field.rsplit("|", 1)
        per.setdefault(tuple(json.loads(values)), {})[suffix] = value
    out = {}
    assert family.buckets is not None
    for values, fields in per.items():
        running, cumulative = 0.0, []
        for b in family.buckets:
            running += fields.get(str(b), 0)
            cumulative.append((str(b), running))
        running += fields.get("+Inf", 0)
        cumulative.append(("+Inf", running))
        out[values] = (cumulative, fields.get("sum", 0.0))
    return out


def histogram_merge(series: dict[tuple[str, ...], tuple[list, float]], keep: Callable[[tuple[str, ...]], bool]):
    """One histogram over the series whose labels `keep` accepts (audit's per-integration view)."""
    buckets: dict[str, float] = {}
    total = 0.0
    for values, (cumulative, sum_value) in series.items():
        if keep(values):
            for le, n in cumulative:
                buckets[le] = buckets.get(le, 0) + n
            total += sum_value
    return buckets, total


class CounterCollector:
    """The Redis-kept families; `read` is counters_read's result (so a caller can reuse it)."""

    def __init__(self, read: dict[str, dict[str, float]]) -> None:
        self.read = read

    def collect(self):
        for name, family in FAMILIES.items():
            raw = self.read.get(name, {})
            if family.buckets is None:
                metric = CounterMetricFamily(name, family.help, labels=list(family.labels))
                for field, value in raw.items():
                    metric.add_metric(list(json.loads(field)), value)
            else:
                metric = HistogramMetricFamily(name, family.help, labels=list(family.labels))
                for values, (cumulative, sum_value) in histogram_series(family, raw).items():
                    metric.add_metric(list(values), cumulative, sum_value=sum_value)
            yield metric


def outbox_owed() -> list[tuple[str, str, str, int, int, float | None]]:
    """(source, target, kind, owed, dead, oldest owed age in s) in one aggregate query.

    Only owed (pending, failed) and dead rows are read, through the partial indexes of audit's
    migration 0002, so the cost follows the backlog, not the table's millions of finished rows.
    """
    from hvaccrm.models import IntegrationLog

    table = IntegrationLog._meta.db_table
    sql = (
        f"SELECT source, target, kind, count(*) FILTER (WHERE state IN ('pending', 'failed')), "  # noqa: S608 - constants only
        "count(*) FILTER (WHERE state = 'dead'), "
        "extract(epoch FROM now() - min(created_at) FILTER (WHERE state IN ('pending', 'failed'))) "
        f"FROM {table} WHERE state IN ('pending', 'failed', 'dead') GROUP BY 1, 2, 3"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [(s, t, k, n, d, float(age) if age is not None else None) for s, t, k, n, d, age in cursor.fetchall()]


class OutboxCollector:
    """Backlog, its oldest row's age (the lag) and dead rows per target and kind: the kind is the
    queue a row waits in (`emergency.alert` is the emergency queue, the one that must drain)."""

    def __init__(self, owed: list[tuple]) -> None:
        self.owed = owed

    def collect(self):
        backlog = GaugeMetricFamily("hvaccrm_outbox_backlog", "Outbox rows owed (pending or failed)",
                                    labels=list(GAUGES["hvaccrm_outbox_backlog"]))
        age = GaugeMetricFamily("hvaccrm_outbox_oldest_pending_age_seconds",
                                "Age of the oldest owed outbox row (the lag)",
                                labels=list(GAUGES["hvaccrm_outbox_oldest_pending_age_seconds"]))
        dead = GaugeMetricFamily("hvaccrm_outbox_dead", "Outbox rows given up", labels=list(GAUGES["hvaccrm_outbox_dead"]))
        merged: dict[tuple[str, str], list] = {}
        for _source, target, kind, owed, n_dead, oldest in self.owed:
            entry = merged.setdefault((target, kind), [0, 0, 0.0])
            entry[0] += owed
            entry[1] += n_dead
            entry[2] = max(entry[2], oldest or 0.0)
        for (target, kind), (owed, n_dead, oldest) in sorted(merged.items()):
            backlog.add_metric([target, kind], owed)
            age.add_metric([target, kind], oldest)
            dead.add_metric([target, kind], n_dead)
        yield from (backlog, age, dead)
