"""The audit dashboard, its pages, the API (roles and throttling) and the metrics endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from audit import conf
from audit.models import AuditCheckpoint, RepairRecord
from hvaccrm import metrics as core_metrics
from hvaccrm.models import IntegrationLog, IntegrationSwitch, ServiceJob
from hvaccrm.tests.factories import ServiceJobFactory

pytestmark = pytest.mark.django_db


def test_the_dashboard_shows_a_health_row_per_integration_and_refreshes_itself(client, administrator):
    client.force_login(administrator)
    response = client.get(reverse("audit:dashboard"), headers={"Accept-Language": "en"})
    page = response.content.decode()
    assert response.status_code == 200
    for label in ("Database ↔ vector store", "Communications ↔ map", "Portal ↔ systems", "Notification delivery"):
        assert label in page
    polish = client.get(reverse("audit:dashboard"), headers={"Accept-Language": "pl"}).content.decode()
    compiled = (Path(__file__).resolve().parents[1] / "locale/pl/LC_MESSAGES/django.mo").exists()
    assert ("Baza danych ↔ baza wektorowa" if compiled else "Database ↔ vector store") in polish
    assert "audit/dashboard.js" in page and 'data-url="/admin/audit/health.json"' in page
    assert "<script>" not in page.split("audit/dashboard.js")[0].split("</head>")[-1]  # no inline script (CSP)
    data = client.get(reverse("audit:health_json")).json()
    assert {r["key"] for r in data["integrations"]} == {"overall", "vector", "map", "portal", "notifications"}


def test_only_managers_and_administrators_see_the_audit_pages(client, dispatcher, manager, anna_user):
    url = reverse("audit:dashboard")
    assert client.get(url).status_code == 302  # to the admin login
    client.force_login(anna_user)
    assert client.get(url).status_code == 403
    client.force_login(dispatcher)
    assert client.get(url).status_code == 403
    client.force_login(manager)
    assert client.get(url).status_code == 200
    assert client.post(reverse("audit:consistency")).status_code == 405  # the repair is an admin action now
    assert client.post(reverse("audit:switch_set", args=["map"]), {"enabled": "0"}).status_code == 403


def test_the_report_page_leads_to_the_dry_run_and_repair_actions(client, administrator, client_anna, monkeypatch):
    monkeypatch.setattr(conf, "CONSISTENCY_GRACE_SECONDS", 0)
    job = ServiceJobFactory(site=client_anna.sites.get(), client=client_anna)
    ServiceJob.objects.filter(pk=job.pk).update(latitude=None, longitude=None, district=None)
    client.force_login(administrator)
    page = client.get(reverse("audit:consistency")).content.decode()
    assert "job_without_location" in page and reverse("admin:audit_consistencycheck_changelist") in page
    assert client.post(reverse("audit:consistency")).status_code == 405 and not RepairRecord.objects.exists()


def test_a_switch_on_the_dashboard_pauses_and_resumes_a_target(client, administrator):
    client.force_login(administrator)
    client.post(reverse("audit:switch_set", args=["map"]), {"enabled": "0", "reason": "release 1.4"})
    switch = IntegrationSwitch.objects.get(target="map")
    assert (switch.enabled, switch.reason, switch.changed_by) == (False, "release 1.4", administrator)
    client.post(reverse("audit:switch_set", args=["map"]), {"enabled": "1"})
    assert IntegrationSwitch.objects.get(target="map").enabled is True


def test_checkpoints_are_taken_and_compared(client, administrator, client_anna):
    client.force_login(administrator)
    client.post(reverse("audit:checkpoints"), {"label": "before"})
    ServiceJobFactory(site=client_anna.sites.get(), client=client_anna)
    client.post(reverse("audit:checkpoints"), {"label": "after"})
    first, second = AuditCheckpoint.objects.order_by("id")
    page = client.get(reverse("audit:checkpoints"), {"first": first.pk, "second": second.pk})
    changed = page.context["comparison"]["changed_tables"]
    assert "hvaccrm.servicejob" in changed
    row = next(t for t in page.context["comparison"]["tables"] if t["table"] == "hvaccrm.servicejob")
    assert row["delta"] == 1 and row["content_changed"] is True
    api = client.get(reverse("audit-api:checkpoint-compare"), {"first": first.pk, "second": second.pk})
    assert "hvaccrm.servicejob" in api.json()["changed_tables"]


def test_the_api_needs_a_signed_in_manager_or_administrator(client, dispatcher, manager, administrator):
    report = reverse("audit-api:report")
    assert client.get(report).status_code in (401, 403)
    client.force_login(dispatcher)
    assert client.get(report).status_code == 403
    client.force_login(manager)
    assert client.get(report).status_code == 200
    assert "findings" in client.get(reverse("audit-api:consistency")).json()
    assert client.post(reverse("audit-api:repair"), {"dry_run": True}, content_type="application/json").status_code == 403
    client.force_login(administrator)
    dry = client.post(reverse("audit-api:repair"), {"dry_run": True}, content_type="application/json")
    assert dry.status_code == 200 and dry.json()["dry_run"] is True
    made = client.post(reverse("audit-api:checkpoints"), {"label": "api"}, content_type="application/json")
    assert made.status_code == 201 and "tables" in made.json()["data"]


def test_the_api_is_rate_limited_by_the_integration_scope(client, manager, settings):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import ScopedRateThrottle

    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "integration": "3/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    api_settings.reload()
    ScopedRateThrottle.THROTTLE_RATES = rates
    try:
        client.force_login(manager)
        codes = [client.get(reverse("audit-api:health")).status_code for _ in range(4)]
    finally:
        ScopedRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    assert codes == [200, 200, 200, 429]


def test_metrics_need_a_staff_session_or_the_bearer_token(client, manager, monkeypatch,
                                                          django_capture_on_commit_callbacks):
    # The outbox counts a row's run as it finishes (hvaccrm.metrics.outbox_finished).
    with django_capture_on_commit_callbacks(execute=True):
        for row in (
            IntegrationLog.objects.create(source="core", target="map", kind="job.updated", state="succeeded",
                                          latency_ms=80),
            IntegrationLog.objects.create(source="portal", target="portal", kind="booking.created", state="failed"),
        ):
            core_metrics.outbox_finished(row=row)
    url = reverse("audit:metrics")
    assert client.get(url).status_code == 401
    monkeypatch.setattr(conf, "METRICS_TOKEN", "s3cret-token")
    assert client.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    body = client.get(url, headers={"Authorization": "Bearer s3cret-token"}).content.decode()
    assert 'hvaccrm_integration_rows_total{integration="map",state="succeeded"} 1.0' in body
    assert 'hvaccrm_integration_rows_total{integration="portal",state="failed"} 1.0' in body
    assert 'hvaccrm_integration_latency_seconds_bucket{integration="map",le="0.1"} 1.0' in body
    assert 'hvaccrm_integration_latency_seconds_bucket{integration="map",le="0.05"} 0.0' in body
    assert 'hvaccrm_integration_backlog{integration="portal"} 1.0' in body
    client.force_login(manager)
    assert client.get(url).status_code == 200


def test_the_audit_admin_pages_are_read_only(client, administrator):
    client.force_login(administrator)
    for name in ("repairrecord", "healthsnapshot", "auditcheckpoint", "integrationhealth"):
        assert client.get(reverse(f"admin:audit_{name}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:audit_{name}_add")).status_code == 403


def test_an_administrator_can_sync_one_message_through_the_api(client, administrator, manager, send):
    message = send("Proszę o przegląd klimatyzacji")
    IntegrationLog.objects.filter(object_type="communications.message").delete()
    url = reverse("audit-api:sync-message")
    client.force_login(manager)
    assert client.post(url, {"message": message.pk}, content_type="application/json").status_code == 403
    client.force_login(administrator)
    answer = client.post(url, {"message": message.pk, "audit_level": "detailed"}, content_type="application/json")
    assert answer.status_code == 200 and answer.json()["prophecy"] == "succeeded"
    assert client.post(url, {"message": 10**9}, content_type="application/json").status_code == 404


def test_healthz_reports_the_vector_store(client):
    body = client.get("/healthz").json()
    assert body["checks"]["vector_store"]["ok"] is True


def test_the_repair_changelist_does_not_grow_queries_with_rows(client, administrator, django_assert_max_num_queries):
    client.force_login(administrator)
    url = reverse("admin:audit_repairrecord_changelist")
    RepairRecord.objects.create(run_id="r", kind="stale_cache", action="cache_invalidate", actor=administrator)
    client.get(url)
    RepairRecord.objects.bulk_create([RepairRecord(run_id="r", kind="stale_cache", action="cache_invalidate",
                                                   actor=administrator) for _ in range(30)])
    with django_assert_max_num_queries(12):
        assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_metrics_are_served_at_the_root_path_to_staff_only(client, administrator):
    assert client.get("/metrics").status_code in (401, 403)
    client.force_login(administrator)
    response = client.get("/metrics")
    assert response.status_code == 200 and b"# TYPE" in response.content
