"""Buffered counters (hvaccrm.metrics_buffer) against the real Redis: counts wait in memory, are
written in one round trip when enough are pending or a moment after the first, never lost at exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

from hvaccrm import metrics
from hvaccrm.metrics_buffer import CounterBuffer


def _value(name: str, *labels: str) -> float:
    return metrics.counters_read()[name].get(json.dumps(list(labels), separators=(",", ":")), 0.0)


def test_counts_wait_in_memory_until_enough_are_pending_then_are_written_together(db):
    buffer = CounterBuffer(every=3, seconds=60)
    buffer.add("hvaccrm_socket_pushes", event="job.updated")
    buffer.add("hvaccrm_socket_pushes", event="emergency.alert")
    assert _value("hvaccrm_socket_pushes", "job.updated") == 0
    buffer.add("hvaccrm_socket_pushes", event="job.updated")
    assert _value("hvaccrm_socket_pushes", "job.updated") == 2
    assert _value("hvaccrm_socket_pushes", "emergency.alert") == 1
    assert buffer.pending() == {}


def test_a_lone_count_is_written_a_moment_later_by_the_timer(db):
    buffer = CounterBuffer(every=100, seconds=0.2)
    buffer.add("hvaccrm_classifier_decisions", urgency="emergency")
    deadline = time.monotonic() + 5
    while _value("hvaccrm_classifier_decisions", "emergency") == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _value("hvaccrm_classifier_decisions", "emergency") == 1


def test_a_flush_asked_on_a_thread_never_writes_on_the_caller_thread(db, monkeypatch):
    writers: list[str] = []
    real = metrics.counters_inc_many
    monkeypatch.setattr(metrics, "counters_inc_many",
                        lambda counts: (writers.append(threading.current_thread().name), real(counts)))
    buffer = CounterBuffer(every=2, seconds=60, flush_on_thread=True)
    buffer.add("hvaccrm_socket_pushes", event="job.updated")
    buffer.add("hvaccrm_socket_pushes", event="job.updated")
    deadline = time.monotonic() + 5
    while _value("hvaccrm_socket_pushes", "job.updated") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _value("hvaccrm_socket_pushes", "job.updated") == 2
    assert writers and threading.current_thread().name not in writers


def test_counts_pending_when_the_process_exits_are_written(db):
    code = ("import django; django.setup(); from hvaccrm.metrics_buffer import CounterBuffer; "
            "b = CounterBuffer(every=1000, seconds=60); "
            "[b.add('hvaccrm_socket_pushes', event='route.changed') for _ in range(7)]")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hvaccrm.settings"}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    assert _value("hvaccrm_socket_pushes", "route.changed") == 7


def test_under_the_test_settings_every_socket_push_is_written_at_once(db):
    metrics.socket_push(event={"type": "job.updated"})
    assert _value("hvaccrm_socket_pushes", "job.updated") == 1
