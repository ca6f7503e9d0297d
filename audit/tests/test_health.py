"""Integration health: thresholds, green/amber/red, one alert per change of state, stale cache."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from audit import conf
from audit.health import HEALTH_CACHE_KEY, health_compute, health_current
from audit.models import HealthSnapshot, IntegrationHealth
from audit.services import health_run
from hvaccrm.models import IntegrationLog
from hvaccrm.services.outbox import integration_switch_set

pytestmark = pytest.mark.django_db


def rows(target: str, *, ok: int, failed: int = 0, dead: int = 0, source: str = "core", latency: float = 120.0,
         pending: int = 0, age: timedelta = timedelta(minutes=5)) -> None:
    at = timezone.now() - age
    made = []
    for state, n in (("succeeded", ok), ("failed", failed), ("dead", dead), ("pending", pending)):
        made += [IntegrationLog(source=source, target=target, kind="job.updated", object_type="hvaccrm.servicejob",
                                object_id=str(i), state=state, created_at=at,
                                latency_ms=latency + i if state == "succeeded" else None,
                                error="RuntimeError: down" if state in ("failed", "dead") else "")
                 for i in range(n)]
    IntegrationLog.objects.bulk_create(made)


def by_key(data: dict) -> dict:
    return {r["key"]: r for r in data["integrations"]}


def test_each_integration_is_measured_against_its_own_threshold():
    rows("map", ok=97, failed=3)  # 97 % < 98 %: amber (within five points)
    rows("notifications", ok=80, failed=20)  # 80 % < 99 % by far: red
    rows("prophecy", ok=91, failed=9)  # 91 % > 90 %: green
    rows("portal", ok=10, source="portal")
    health = by_key(health_compute())
    assert (health["map"]["state"], health["map"]["success_rate"]) == ("amber", 97.0)
    assert health["notifications"]["state"] == "red"
    assert health["vector"]["state"] == "green" and health["vector"]["success_rate"] == 91.0
    assert health["portal"]["state"] == "green" and health["portal"]["succeeded"] == 10
    assert health["overall"]["success_rate"] == round(100 * 278 / 310, 2)
    assert health["map"]["p50_ms"] == pytest.approx(168.0) and health["map"]["p95_ms"] > health["map"]["p50_ms"]
    assert health["notifications"]["last_errors"][0]["error"] == "RuntimeError: down"


def test_rows_outside_the_window_do_not_count_but_old_backlog_turns_amber():
    rows("map", ok=0, failed=50, age=timedelta(hours=3))
    rows("map", ok=5, pending=2, age=timedelta(minutes=conf.BACKLOG_STALE_MINUTES + 5))
    health = by_key(health_compute())
    assert health["map"]["success_rate"] == 100.0
    assert health["map"]["backlog"] == 52  # failed rows are owed too, whatever their age
    assert health["map"]["state"] == "amber" and "backlog" in health["map"]["reasons"][0]


def test_a_small_sample_is_never_red_and_a_switched_off_target_is_amber():
    rows("map", ok=1, failed=4)
    integration_switch_set(target="prophecy", enabled=False)
    health = by_key(health_compute())
    assert health["map"]["state"] == "amber"
    assert health["vector"]["state"] == "amber" and health["vector"]["switched_off"] is True


def test_a_change_of_state_is_alerted_to_administrators_once(administrator):
    from communications.models import Notification

    rows("notifications", ok=50, failed=50)
    first = health_run()
    assert {"integration": "notifications", "from": "green", "to": "red", "alerted": True} in first["changes"]
    alerts = Notification.objects.filter(recipient=administrator, kind="integration.health")
    assert alerts.filter(related_id="notifications").count() == 1
    second = health_run()
    assert second["changes"] == []
    assert alerts.filter(related_id="notifications").count() == 1
    IntegrationLog.objects.filter(state="failed").update(state="succeeded", latency_ms=10)
    third = health_run()
    assert {"integration": "notifications", "from": "red", "to": "green", "alerted": True} in third["changes"]
    assert alerts.filter(related_id="notifications").count() == 2
    assert IntegrationHealth.objects.get(integration="notifications").state == "green"
    assert HealthSnapshot.objects.count() == 3


def test_the_health_task_runs_the_service(administrator):
    from audit.tasks import health_run as task

    rows("map", ok=10)
    task.delay()
    assert HealthSnapshot.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_readers_get_the_cached_figures_marked_stale_when_the_database_is_down():
    rows("map", ok=10)
    live = health_current()
    assert live["stale"] is False
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"  # nothing listens there: a real refused connection
    try:
        stale = health_current()
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port
    assert stale["stale"] is True and "OperationalError" in stale["error"]
    assert stale["computed_at"] == live["computed_at"]
    assert by_key(stale)["map"]["succeeded"] == 10


def test_the_cache_holds_the_last_live_figures():
    from django.core.cache import cache

    health_current()
    assert cache.get(HEALTH_CACHE_KEY)["stale"] is False


def test_when_the_vector_store_is_down_its_row_is_red_and_the_last_good_figures_are_kept():
    from prophecy.stores import store_get

    rows("prophecy", ok=30)
    good = health_current()
    assert by_key(good)["vector"]["state"] == "green"
    store = store_get()
    store.available = False  # the store stops answering (as prophecy's own tests simulate it)
    try:
        down = health_current()
    finally:
        store.available = True
    assert by_key(down)["vector"]["state"] == "red" and "backend not answering" in by_key(down)["vector"]["reasons"]
    assert down["stale_backends"] == ["vector_store"]
    assert down["vector_last_good"]["succeeded"] == 30 and down["vector_last_good"]["state"] == "green"
    assert health_current()["backends"]["vector_store"] is True
