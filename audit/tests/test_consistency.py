"""Each consistency finding is produced by a seeded fault and cleared by the repair; the dry run
changes nothing; the repair is idempotent and every repair is recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from audit import conf
from audit.consistency import get_data_consistency_report
from audit.health import HEALTH_CACHE_KEY
from audit.models import RepairRecord
from audit.services import repair_data_inconsistencies
from audit.tests.conftest import rows_of
from hvaccrm.models import IntegrationLog, ServiceJob
from hvaccrm.services.outbox import record
from hvaccrm.tests.factories import ServiceJobFactory, TechnicianFactory, district

pytestmark = pytest.mark.django_db
EMERGENCY = "Klimatyzacja nie chłodzi, serwerownia się przegrzewa!"


@pytest.fixture(autouse=True)
def _no_grace(monkeypatch):
    monkeypatch.setattr(conf, "CONSISTENCY_GRACE_SECONDS", 0)


def finding(kind: str) -> dict | None:
    return next((f for f in get_data_consistency_report()["findings"] if f["kind"] == kind), None)


def repair(kind: str) -> dict:
    return repair_data_inconsistencies(dry_run=False, kinds=[kind])


def test_a_clean_system_is_consistent(send, technician_mokotow):
    technician_mokotow.last_position_at = timezone.now()
    technician_mokotow.save()
    send(EMERGENCY, latitude=52.1935, longitude=21.0260)
    report = get_data_consistency_report()
    assert report["findings"] == [], report["findings"]
    assert report["consistent"] is True


def test_in_app_notifications_no_page_received_count_only_after_their_own_grace(send, technician_mokotow):
    from communications.models import Delivery

    send(EMERGENCY, latitude=52.1935, longitude=21.0260)  # nobody has a socket open: in-app stays pending
    waiting = Delivery.objects.filter(channel="in_app", state__in=["pending", "sent"])
    assert waiting.exists()
    assert finding("in_app_undelivered") is None  # fresh: the recipient's next page will show them
    waiting.update(created_at=timezone.now() - timedelta(minutes=conf.IN_APP_UNDELIVERED_MINUTES + 1))
    found = finding("in_app_undelivered")
    assert found is not None and found["count"] == waiting.count() and found["repairable"] is False


def test_a_message_with_no_log_is_found_and_synced_by_the_repair(send):
    message = send("Proszę o przegląd klimatyzacji")
    IntegrationLog.objects.filter(object_type="communications.message", object_id=str(message.pk)).delete()
    f = finding("message_without_log")
    assert f["objects"] == [message.pk] and f["repairable"] is True
    result = repair("message_without_log")
    assert result["failed"] == 0
    assert finding("message_without_log") is None
    assert rows_of("communications.message", message.pk)[("prophecy", "message.created")].state == "succeeded"


def test_a_synced_log_whose_vector_is_gone_is_found_and_synced_again(send, client_anna):
    from prophecy.selectors import vector_exists
    from prophecy.stores import store_get, vector_id_for

    message = send("Proszę o przegląd klimatyzacji")
    assert vector_exists(object_type="communications.message", object_id=str(message.pk))
    # The store lost the object (a restored backup, a wiped collection): our log still says synced.
    store_get().delete([vector_id_for(object_type="communications.message", object_id=str(message.pk))])
    log = rows_of("communications.message", message.pk)[("prophecy", "message.created")]
    assert finding("synced_without_vector")["objects"] == [log.pk]
    repair("synced_without_vector")
    assert finding("synced_without_vector") is None
    assert vector_exists(object_type="communications.message", object_id=str(message.pk))


def test_vectors_erased_on_a_clients_request_are_not_synced_back(send, client_anna):
    from prophecy.services import vectors_erase_for_client

    send("Proszę o przegląd klimatyzacji")
    vectors_erase_for_client(client_id=client_anna.pk)
    assert finding("synced_without_vector") is None


def test_an_emergency_that_notified_nobody_is_found_and_dispatched_again(send, technician_mokotow):
    from communications.models import Notification

    message = send(EMERGENCY)
    Notification.objects.all().delete()
    assert finding("emergency_without_notification")["objects"] == [message.pk]
    repair("emergency_without_notification")
    assert finding("emergency_without_notification") is None
    assert Notification.objects.filter(recipient=technician_mokotow.user).exists()


def test_an_emergency_whose_alert_row_is_owed_is_run_not_dispatched_twice(send, technician_mokotow):
    from communications.models import EmergencyAlert
    from hvaccrm.services.outbox import integration_switch_set

    integration_switch_set(target="notifications", enabled=False)
    message = send(EMERGENCY)
    integration_switch_set(target="notifications", enabled=True)  # no publish captured: still pending
    assert rows_of("communications.message", message.pk)[("notifications", "emergency.alert")].state == "pending"
    assert finding("emergency_without_notification")["objects"] == [message.pk]
    repair("emergency_without_notification")
    assert finding("emergency_without_notification") is None
    assert EmergencyAlert.objects.filter(message=message).count() == 1


def test_an_open_job_with_no_location_is_located_from_its_site(client_anna):
    job = ServiceJobFactory(site=client_anna.sites.get(), client=client_anna)
    ServiceJob.objects.filter(pk=job.pk).update(latitude=None, longitude=None, district=None)
    f = finding("job_without_location")
    assert f["objects"] == [job.pk] and f["repairable"] is True
    repair("job_without_location")
    job.refresh_from_db()
    assert (job.latitude, job.district.slug) == (52.1930, "mokotow")
    assert finding("job_without_location") is None


def test_a_job_whose_site_has_no_location_either_is_reported_as_not_repairable(client_anna):
    site = client_anna.sites.get()
    site.latitude = site.longitude = None
    site.district = None
    site.save()
    job = ServiceJobFactory(site=site, client=client_anna, latitude=None, longitude=None, district=None)
    f = finding("job_without_location")
    assert f["unrepairable_objects"] == [job.pk] and f["repairable"] is False
    assert repair("job_without_location")["done"] == []


def test_logs_of_a_deleted_object_are_found_and_removed(client_anna):
    job = ServiceJobFactory(site=client_anna.sites.get(), client=client_anna)
    with transaction.atomic():
        log = record(source="core", target="map", kind="job.updated", obj=job, payload={"job": job.pk})
    ServiceJob.objects.filter(pk=job.pk).delete()
    assert finding("log_of_deleted_object")["objects"] == [log.pk]
    repair("log_of_deleted_object")
    assert not IntegrationLog.objects.filter(pk=log.pk).exists()
    assert finding("log_of_deleted_object") is None


def test_a_stale_health_cache_is_found_and_refreshed():
    cache.set(HEALTH_CACHE_KEY, {"computed_at": (timezone.now() - timedelta(hours=2)).isoformat(), "integrations": []})
    assert finding("stale_cache")["objects"] == [HEALTH_CACHE_KEY]
    repair("stale_cache")
    assert finding("stale_cache") is None
    assert cache.get(HEALTH_CACHE_KEY)["integrations"]


def test_a_technician_on_shift_with_a_stale_position_is_reported_and_left_to_people(db):
    tech = TechnicianFactory(home_district=district("wola"), on_shift=True,
                             last_position_at=timezone.now() - timedelta(hours=3))
    private = TechnicianFactory(home_district=district("wola"), on_shift=True, private_mode=True)
    f = finding("technician_stale_position")
    assert tech.pk in f["objects"] and private.pk not in f["objects"] and f["repairable"] is False
    assert repair_data_inconsistencies(dry_run=False)["done"] == []
    assert finding("technician_stale_position") is not None


def _state() -> tuple:
    from communications.models import EmergencyAlert, Notification

    return (
        list(IntegrationLog.objects.order_by("id").values_list("id", "state", "attempts")),
        Notification.objects.count(), EmergencyAlert.objects.count(), RepairRecord.objects.count(),
        list(ServiceJob.objects.order_by("id").values_list("id", "latitude", "district_id")),
        cache.get(HEALTH_CACHE_KEY),
    )


@pytest.fixture
def faults(send, client_anna, technician_mokotow):
    """One fault of every repairable kind at once."""
    from communications.models import Notification

    technician_mokotow.last_position_at = timezone.now()
    technician_mokotow.save()
    lost = send("Proszę o przegląd klimatyzacji")
    IntegrationLog.objects.filter(object_type="communications.message", object_id=str(lost.pk)).delete()
    send(EMERGENCY)
    Notification.objects.all().delete()
    job = ServiceJobFactory(site=client_anna.sites.get(), client=client_anna)
    ServiceJob.objects.filter(pk=job.pk).update(latitude=None, longitude=None, district=None)
    gone = ServiceJobFactory(site=client_anna.sites.get(), client=client_anna)
    with transaction.atomic():
        record(source="core", target="map", kind="job.updated", obj=gone, payload={"job": gone.pk})
    ServiceJob.objects.filter(pk=gone.pk).delete()
    cache.set(HEALTH_CACHE_KEY, {"computed_at": (timezone.now() - timedelta(hours=2)).isoformat(), "integrations": []})
    kinds = {f["kind"] for f in get_data_consistency_report()["findings"]}
    assert kinds == {"message_without_log", "emergency_without_notification", "job_without_location",
                     "log_of_deleted_object", "stale_cache"}


def test_the_dry_run_shows_the_plan_and_changes_nothing(faults):
    before = _state()
    plan = repair_data_inconsistencies(dry_run=True)
    assert plan["dry_run"] is True and plan["done"] == []
    assert {p["kind"] for p in plan["planned"]} == {"message_without_log", "emergency_without_notification",
                                                    "job_without_location", "log_of_deleted_object", "stale_cache"}
    assert _state() == before


def test_the_repair_fixes_everything_records_each_repair_and_a_second_run_does_nothing(faults, administrator):
    first = repair_data_inconsistencies(dry_run=False, actor=administrator)
    assert first["failed"] == 0, first["done"]
    assert get_data_consistency_report()["findings"] == []
    records = RepairRecord.objects.filter(run_id=first["run"])
    assert records.count() == len(first["planned"]), [(p["kind"], p["object_id"]) for p in first["planned"]]
    # the deleted notifications took their deliveries along: their delivery.send logs are orphans too
    assert {p["kind"] for p in first["planned"]} == {"message_without_log", "emergency_without_notification",
                                                     "job_without_location", "log_of_deleted_object", "stale_cache"}
    assert set(records.values_list("actor_label", flat=True)) == {administrator.username}
    before = _state()
    second = repair_data_inconsistencies(dry_run=False)
    assert second["planned"] == [] and second["done"] == []
    assert _state()[:5] == before[:5]


def test_a_repair_during_a_weaviate_outage_skips_the_vector_check_instead_of_re_queuing(send, httpserver, settings):
    # With Weaviate down, "does the store have it?" has no answer: the check is skipped, not
    # answered "no" for every synced object (which re-queued up to 2,000 of them).
    from prophecy import selectors, stores
    from prophecy.stores.weaviate import WeaviateStore
    from prophecy.tests.weaviate_fake import FakeWeaviate

    message = send("Proszę o przegląd klimatyzacji")
    fake = FakeWeaviate()
    fake.install_rest(httpserver)
    server, port = fake.start_grpc()
    settings.VECTOR_STORE_BACKEND = "weaviate"
    stores._stores["weaviate"] = WeaviateStore(url=httpserver.url_for("/").rstrip("/"), grpc_port=port,
                                               timeout=0.5, retries=0)
    try:
        server.stop(0)
        httpserver.clear()  # the store is down: every REST call answers 500, gRPC refuses
        assert selectors.vector_exists(object_type="communications.message", object_id=str(message.pk)) is None
        report = get_data_consistency_report(kinds=["synced_without_vector"])
        assert report["findings"] == [] and report["skipped"] == ["synced_without_vector"]
        assert repair("synced_without_vector")["failed"] == 0
        assert IntegrationLog.objects.filter(target="prophecy", object_id=str(message.pk)).count() == 1
    finally:
        stores.store_reset()
