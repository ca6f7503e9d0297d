"""The core's metrics: counters kept in Redis are shared by every process, and the socket
consumer counts its connections and pushes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from asgiref.sync import sync_to_async

from hvaccrm import metrics
from hvaccrm.realtime import events, groups
from hvaccrm.tests.realtime_helpers import close_code, connect, receive_json


def _value(name: str, *labels: str) -> float:
    import json

    return metrics.counters_read()[name].get(json.dumps(list(labels), separators=(",", ":")), 0.0)


def test_a_count_made_in_another_process_reaches_the_scrape(db):
    code = ("import django; django.setup(); from hvaccrm import metrics; "
            "metrics.counter_inc('hvaccrm_classifier_decisions', 3, urgency='high')")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hvaccrm.settings"}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    metrics.counter_inc("hvaccrm_classifier_decisions", urgency="high")
    assert _value("hvaccrm_classifier_decisions", "high") == 4


def test_a_histogram_is_cumulative_at_scrape_time(db):
    for seconds in (0.003, 0.04, 0.04, 20.0):
        metrics.histogram_observe("hvaccrm_search_duration_seconds", seconds, backend="embedded", source="vector")
    family = next(f for f in metrics.CounterCollector(metrics.counters_read()).collect()
                  if f.name == "hvaccrm_search_duration_seconds")
    samples = {(s.name, s.labels.get("le")): s.value for s in family.samples}
    assert samples[("hvaccrm_search_duration_seconds_bucket", "0.005")] == 1
    assert samples[("hvaccrm_search_duration_seconds_bucket", "0.05")] == 3
    assert samples[("hvaccrm_search_duration_seconds_bucket", "10.0")] == 3
    assert samples[("hvaccrm_search_duration_seconds_bucket", "+Inf")] == 4
    assert samples[("hvaccrm_search_duration_seconds_count", None)] == 4
    assert samples[("hvaccrm_search_duration_seconds_sum", None)] == pytest.approx(20.083)


def test_counting_without_redis_drops_the_count_and_does_not_raise(db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    metrics.counter_inc("hvaccrm_socket_pushes", event="job.updated")
    metrics.histogram_observe("hvaccrm_embedding_duration_seconds", 0.1, provider="x")


def test_the_outbox_lag_and_backlog_are_one_query(db, django_assert_num_queries):
    from datetime import timedelta

    from django.utils import timezone

    from hvaccrm.models import IntegrationLog

    old = timezone.now() - timedelta(minutes=7)
    IntegrationLog.objects.create(source="communications", target="notifications", kind="emergency.alert",
                                  state="pending", created_at=old)
    IntegrationLog.objects.create(source="communications", target="notifications", kind="emergency.alert",
                                  state="failed")
    IntegrationLog.objects.create(source="core", target="map", kind="job.updated", state="dead")
    IntegrationLog.objects.create(source="core", target="map", kind="job.updated", state="succeeded")
    with django_assert_num_queries(1):
        owed = metrics.outbox_owed()
    samples = {(s.name, s.labels["target"], s.labels["kind"]): s.value
               for f in metrics.OutboxCollector(owed).collect() for s in f.samples}
    assert samples[("hvaccrm_outbox_backlog", "notifications", "emergency.alert")] == 2
    assert samples[("hvaccrm_outbox_oldest_pending_age_seconds", "notifications", "emergency.alert")] >= 420
    assert samples[("hvaccrm_outbox_dead", "map", "job.updated")] == 1
    assert samples[("hvaccrm_outbox_backlog", "map", "job.updated")] == 0


def test_a_finished_outbox_row_is_counted_with_its_latency(db, monkeypatch, django_capture_on_commit_callbacks):
    from hvaccrm.models import IntegrationLog
    from hvaccrm.services import outbox

    monkeypatch.setitem(outbox._handlers, ("map", "metrics.test"), lambda row: None)
    row = IntegrationLog.objects.create(source="core", target="map", kind="metrics.test")
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.outbox_process(log_id=row.pk) == "succeeded"
    assert _value("hvaccrm_outbox_attempts", "core", "map", "succeeded") == 1
    assert metrics.counters_read()["hvaccrm_outbox_latency_seconds"]


@pytest.mark.django_db(transaction=True)
async def test_the_consumer_counts_connections_refusals_and_pushes(anna_user):
    refused = await connect(None)
    assert await close_code(refused) == 4401
    await refused.disconnect()  # what the server sends the consumer after its close
    comm = await connect(anna_user)
    await receive_json(comm)
    client_id = await sync_to_async(lambda: anna_user.clients.get().pk)()
    event = events.make_event("job.updated", row_id=42, data={"status": "en_route"})
    await sync_to_async(events.send_now)([groups.client_group(client_id)], event)
    await receive_json(comm)
    await comm.disconnect()
    read = await sync_to_async(metrics.counters_read)()
    assert read["hvaccrm_socket_connections"] == {'["accepted"]': 1.0, '["refused"]': 1.0}
    assert read["hvaccrm_socket_pushes"] == {'["job.updated"]': 1.0}
    assert read["hvaccrm_socket_disconnections"] == {"[]": 1.0}
