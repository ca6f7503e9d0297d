"""Each flow of the design end to end through the outbox (eager tasks): the subsystem service
records, the integration handler runs the target's real service."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hvaccrm.models import IntegrationLog, ServiceJob
from hvaccrm.services import outbox
from hvaccrm.services.jobs import job_create, job_feedback_give, job_transition
from hvaccrm.tests.factories import TechnicianFactory, district
from integration.tests.conftest import rows_of

pytestmark = pytest.mark.django_db
EMERGENCY = "Klimatyzacja nie chłodzi, serwerownia się przegrzewa!"


def test_every_contract_target_and_kind_has_a_handler_of_the_integration_layer():
    from integration import handlers

    registered = outbox.registered_handlers()
    for key in [("map", "message.created"), ("prophecy", "message.created"), ("notifications", "emergency.alert"),
                ("notifications", "job.created"), ("notifications", "job.updated"), ("map", "job.created"),
                ("map", "job.updated"), ("portal", "booking.created"), ("portal", "feedback.created"),
                ("notifications", "prophecy.alert"), ("notifications", "delivery.send"), ("prophecy", "job.completed")]:
        assert registered[key].__module__ == handlers.__name__, key


def test_an_emergency_message_reaches_the_vector_store_the_map_and_the_districts_technicians(
        send, anna_job, technician_mokotow):
    from communications.models import EmergencyAlert, Notification
    from prophecy.selectors import vector_exists

    message = send(EMERGENCY, latitude=52.1935, longitude=21.0260)

    rows = rows_of("communications.message", message.pk)
    assert {k: r.state for k, r in rows.items()} == {
        ("prophecy", "message.created"): "succeeded", ("map", "message.created"): "succeeded",
        ("notifications", "emergency.alert"): "succeeded"}
    assert vector_exists(object_type="communications.message", object_id=str(message.pk))
    anna_job.refresh_from_db()
    assert (anna_job.latitude, anna_job.longitude, anna_job.district.slug) == (52.1935, 21.0260, "mokotow")
    alert = EmergencyAlert.objects.get(message=message)
    told = Notification.objects.filter(related_type="communications.emergencyalert", related_id=str(alert.pk))
    assert technician_mokotow.user_id in set(told.values_list("recipient_id", flat=True))


def test_running_a_message_row_twice_creates_nothing_new(send, technician_mokotow):
    from communications.models import EmergencyAlert, Notification

    message = send(EMERGENCY)
    before = (EmergencyAlert.objects.count(), Notification.objects.count())
    row = rows_of("communications.message", message.pk)[("notifications", "emergency.alert")]
    IntegrationLog.objects.filter(pk=row.pk).update(state="pending")
    assert outbox.outbox_process(log_id=row.pk) == "succeeded"
    assert (EmergencyAlert.objects.count(), Notification.objects.count()) == before


def test_a_high_urgency_located_message_tells_the_districts_technicians(send, technician_mokotow):
    from communications.models import Notification

    message = send("Klimatyzacja nie działa, proszę pilnie", latitude=52.1935, longitude=21.0260)
    assert message.urgency == "high"
    assert rows_of("communications.message", message.pk)[("map", "message.created")].state == "succeeded"
    assert Notification.objects.filter(recipient=technician_mokotow.user, kind="message.urgent").exists()


def test_a_hotspot_alert_notifies_managers_and_is_pushed_to_the_dashboards(
        manager, django_capture_on_commit_callbacks):
    from django.db import transaction

    from communications.models import Notification

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            outbox.record(source="prophecy", target="notifications", kind="prophecy.alert",
                          object_type="prophecy.prediction", object_id=41,
                          payload={"prediction": 41, "district": "Wilanów", "district_slug": "wilanow",
                                   "predictedDemand": 0.92, "confidence": 0.88,
                                   "serviceTypes": ["installation", "maintenance"], "week_start": "2026-11-30"})
    row = IntegrationLog.objects.get(kind="prophecy.alert")
    assert row.state == "succeeded"
    n = Notification.objects.get(recipient=manager, kind="prophecy.alert")
    assert "Wilanów" in n.title and n.related_id == "41"
    assert len(callbacks) >= 2  # the publish, and the prophecy.alert push to managers and dispatch


def test_a_portal_booking_is_stored_for_prophecy_and_the_district_technicians_are_told(
        client_anna, technician_mokotow, django_capture_on_commit_callbacks):
    from communications.models import Notification
    from prophecy.selectors import vector_exists

    site = client_anna.sites.get()
    start = timezone.now() + timedelta(days=5)
    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(site=site, service_type="installation", description="Montaż klimatyzacji w sypialni",
                         source="portal", requested_start=start, requested_end=start + timedelta(hours=2))
    rows = rows_of("hvaccrm.servicejob", job.pk)
    assert {k: r.state for k, r in rows.items()} == {
        ("portal", "booking.created"): "succeeded", ("map", "job.created"): "succeeded",
        ("notifications", "job.created"): "succeeded",
        # the day is within the 14-day plan: re-planned at once, the plan assigns the job
        ("map", "job.updated"): "succeeded", ("notifications", "job.updated"): "succeeded"}
    assert vector_exists(object_type="hvaccrm.servicejob", object_id=str(job.pk))
    assert Notification.objects.filter(recipient=technician_mokotow.user, kind="booking.created").exists()
    # the map row records the change it re-planned for
    assert rows[("map", "job.created")].payload["change"] == "created"


def test_a_booking_for_today_replans_the_day(client_anna, technician_mokotow, django_capture_on_commit_callbacks):
    site = client_anna.sites.get()
    start = timezone.localtime().replace(hour=23, minute=0, second=0, microsecond=0)
    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(site=site, service_type="repair", description="Nie grzeje", source="portal",
                         requested_start=start, requested_end=start + timedelta(minutes=59))
    row = rows_of("hvaccrm.servicejob", job.pk)[("map", "job.created")]
    assert row.state == "succeeded", row.error
    from integration.services import job_day, job_replan_if_needed

    assert job_day(job_id=job.pk, payload=row.payload) == timezone.localdate()
    assert row.payload.get("scheduled_start") is None  # a booking: the requested day counts
    assert row.audit_level == "basic"
    result = job_replan_if_needed(job_id=job.pk, change="created", day=timezone.localdate())
    assert result["replanned"] is True and result["day"] == timezone.localdate().isoformat()
    assert job_replan_if_needed(job_id=job.pk, change="eta", day=timezone.localdate())["replanned"] is False
    assert job_replan_if_needed(job_id=job.pk, change="created",
                                day=timezone.localdate() + timedelta(days=4))["replanned"] is True
    assert job_replan_if_needed(job_id=job.pk, change="created",
                                day=timezone.localdate() + timedelta(days=14))["replanned"] is False


def test_job_updates_reach_the_client(client_anna, anna_user, technician_mokotow, django_capture_on_commit_callbacks):
    from communications.models import Notification

    site = client_anna.sites.get()
    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(site=site, service_type="repair", description="Nie chłodzi")
    with django_capture_on_commit_callbacks(execute=True):
        job = job_transition(job=job, to_status="scheduled", technician=technician_mokotow)
    updated = [r for r in IntegrationLog.objects.filter(object_type="hvaccrm.servicejob", object_id=str(job.pk),
                                                        kind="job.updated")]
    assert updated and all(r.state == "succeeded" for r in updated), [r.error for r in updated]
    assert Notification.objects.filter(recipient=anna_user).exists()


def test_low_feedback_is_stored_and_reaches_managers_but_good_feedback_does_not(
        client_anna, manager, technician_mokotow, django_capture_on_commit_callbacks):
    from communications.models import Notification

    site = client_anna.sites.get()
    jobs = []
    for _ in range(2):
        job = job_create(site=site, service_type="repair", description="Serwis")
        for status in ("scheduled", "en_route", "on_site", "completed"):
            job = job_transition(job=job, to_status=status, technician=technician_mokotow)
        jobs.append(job)
    with django_capture_on_commit_callbacks(execute=True):
        low = job_feedback_give(job=jobs[0], rating=2, comment="Spóźnienie dwie godziny")
        job_feedback_give(job=jobs[1], rating=5, comment="Super")
    assert all(r.state == "succeeded" for r in IntegrationLog.objects.filter(kind="feedback.created"))
    told = Notification.objects.filter(recipient=manager, kind="feedback.low")
    assert list(told.values_list("related_id", flat=True)) == [str(low.pk)]


def test_a_failed_delivery_raises_so_the_outbox_retries_it(settings):
    from communications.services import DeliveryFailed
    from integration.services import delivery_run

    settings.OUTBOX_MAX_ATTEMPTS = 8
    with pytest.raises(Exception) as info:
        delivery_run(delivery_id=999999)
    assert not isinstance(info.value, DeliveryFailed)  # no such delivery: communications says so


def test_a_switched_off_target_waits_and_resumes(send, technician_mokotow, django_capture_on_commit_callbacks):
    outbox.integration_switch_set(target="map", enabled=False, reason="test")
    message = send("Proszę o przegląd", latitude=52.1935, longitude=21.0260)
    rows = rows_of("communications.message", message.pk)
    assert rows[("map", "message.created")].state == "pending"
    assert rows[("prophecy", "message.created")].state == "succeeded"
    assert outbox.outbox_due(grace_seconds=0) == []  # the sweep leaves it alone while off
    with django_capture_on_commit_callbacks(execute=True):
        outbox.integration_switch_set(target="map", enabled=True)
    assert rows_of("communications.message", message.pk)[("map", "message.created")].state == "succeeded"


def test_a_job_deleted_before_its_row_runs_is_skipped_not_failed(client_anna, django_capture_on_commit_callbacks):
    site = client_anna.sites.get()
    job = job_create(site=site, service_type="repair", description="x")
    row = rows_of("hvaccrm.servicejob", job.pk)[("notifications", "job.created")]
    IntegrationLog.objects.filter(object_id=str(job.pk)).exclude(pk=row.pk).delete()
    ServiceJob.objects.filter(pk=job.pk).delete()
    assert outbox.outbox_process(log_id=row.pk) == "succeeded"
    row.refresh_from_db()
    assert row.error == ""


def test_sync_communication_data_runs_owed_work_and_rebuilds_missing_rows(send, technician_mokotow):
    from integration.services import sync_communication_data

    message = send(EMERGENCY, latitude=52.1935, longitude=21.0260)
    IntegrationLog.objects.filter(object_type="communications.message", object_id=str(message.pk)).delete()
    result = sync_communication_data(message_id=message.pk, audit_level="detailed")
    assert result == {"message": message.pk, "prophecy": "succeeded", "map": "succeeded",
                      "notifications": "succeeded"}
    rows = rows_of("communications.message", message.pk)
    assert rows[("map", "message.created")].details  # detailed: the handler's result is kept
    assert sync_communication_data(message_id=message.pk) == result  # nothing run twice
    assert len(rows_of("communications.message", message.pk)) == 3
    assert TechnicianFactory._meta.model.objects.filter(home_district=district("mokotow")).exists()


def test_a_real_forecast_hotspot_becomes_a_district_alert_to_managers(manager, django_capture_on_commit_callbacks):
    """prophecy -> notification with prophecy's own forecast: a Wilanów installation peak."""
    from communications.models import Notification
    from hvaccrm.tests.factories import SiteFactory
    from prophecy.models import Prediction
    from prophecy.services import forecast_run

    TechnicianFactory(home_district=district("wilanow"))
    site = SiteFactory(district=district("wilanow"))
    now = timezone.now()
    jobs = [ServiceJob(client=site.client, site=site, service_type="installation", district=site.district,
                       estimated_duration_min=240, description="montaż") for _ in range(30 * 30)]
    ServiceJob.objects.bulk_create(jobs)
    for i, job in enumerate(jobs):
        job.created_at = now - timedelta(weeks=1 + i // 30)
    ServiceJob.objects.bulk_update(jobs, ["created_at"])
    with django_capture_on_commit_callbacks(execute=True):
        result = forecast_run()
    assert result["alerts"] >= 1
    rows = IntegrationLog.objects.filter(kind="prophecy.alert")
    assert rows.count() == result["alerts"] and all(r.state == "succeeded" for r in rows)
    told = Notification.objects.filter(recipient=manager, kind="prophecy.alert")
    assert told.count() == result["alerts"]
    hot = Prediction.objects.filter(is_hotspot=True).values_list("pk", flat=True)
    assert set(told.values_list("related_id", flat=True)) <= {str(pk) for pk in hot}
    assert "Wilanów" in told.first().title


def test_a_lost_map_row_is_rebuilt_with_the_messages_own_coordinates(send, anna_job):
    from integration.services import sync_communication_data

    message = send("Proszę o przegląd klimatyzacji", latitude=52.1935, longitude=21.0260)
    IntegrationLog.objects.filter(object_type="communications.message", target="map").delete()
    ServiceJob.objects.filter(pk=anna_job.pk).update(latitude=None, longitude=None)
    assert sync_communication_data(message_id=message.pk)["map"] == "succeeded"
    rebuilt = rows_of("communications.message", message.pk)[("map", "message.created")]
    assert (rebuilt.payload["latitude"], rebuilt.payload["job"], rebuilt.source) == (52.1935, anna_job.pk, "integration")
    anna_job.refresh_from_db()
    assert anna_job.latitude == 52.1935


def test_a_completed_job_is_stored_for_semantic_search_with_how_it_was_resolved(anna_job, technician_mokotow,
                                                                                  django_capture_on_commit_callbacks):
    from prophecy.selectors import search_similar, vector_exists

    job_transition(job=anna_job, to_status="scheduled", technician=technician_mokotow)
    job_transition(job=anna_job, to_status="en_route")
    job_transition(job=anna_job, to_status="on_site")
    with django_capture_on_commit_callbacks(execute=True):
        job_transition(job=anna_job, to_status="completed", report={"work_done": "Wymieniono czujnik temperatury"})
    row = rows_of("hvaccrm.servicejob", anna_job.pk)[("prophecy", "job.completed")]
    assert row.state == "succeeded"
    assert vector_exists(object_type="hvaccrm.servicejob", object_id=str(anna_job.pk))
    found = search_similar(query="klimatyzacja nie chłodzi", limit=5)
    assert any(str(r.get("id", "")).endswith(str(anna_job.pk)) or r.get("object_id") == str(anna_job.pk)
               for r in found["results"]), found
