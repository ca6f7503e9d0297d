"""The management commands: reports as JSON, repair, checkpoints, integration_check, preflight."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from audit import conf
from audit.models import AuditCheckpoint
from audit.services import create_audit_checkpoint
from hvaccrm.checks import heartbeat_write
from hvaccrm.models import ServiceJob
from hvaccrm.realtime.events import make_event, send_now
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
    assert {"count", "hash"} <= set(first["tables"]["hvaccrm.servicejob"])
    assert first["backends"]["vector_store"] == {"healthy": True, "objects": 0}
    assert first["backends"]["redis"]["keys"] >= 0 and "overall" in first["health"]
    diff = json.loads(run("audit_checkpoint", "--compare", str(first["id"]), str(second["id"])))
    assert diff["changed_tables"] == []


def _all_tables_state() -> dict:
    cp = create_audit_checkpoint(label="probe")
    tables = cp.data["tables"]
    AuditCheckpoint.objects.filter(pk=cp.pk).delete()
    return tables


class Listener(threading.Thread):
    """Sockets' view: a channel, on its own event loop, in the groups real people's browsers and
    devices join; it keeps what reaches it."""

    def __init__(self, groups: list[str]) -> None:
        super().__init__(daemon=True)
        self.groups, self.got = groups, []
        self.ready, self.done = threading.Event(), threading.Event()

    def run(self) -> None:
        asyncio.run(self._listen())

    async def _listen(self) -> None:
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        channel = await layer.new_channel()
        for group in self.groups:
            await layer.group_add(group, channel)
        self.ready.set()
        while not self.done.is_set():
            try:
                self.got.append(await asyncio.wait_for(layer.receive(channel), timeout=0.3))
            except TimeoutError:
                continue
        for group in self.groups:
            await layer.group_discard(group, channel)

    def __enter__(self) -> Listener:
        self.start()
        assert self.ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        time.sleep(1.0)
        self.done.set()
        self.join(10)


# Real commits (transactional): a push or a Celery publish registered on commit would really go
# out if the check committed anything; it must roll everything back instead.
@pytest.mark.django_db(transaction=True)
def test_integration_check_passes_leaves_no_trace_and_sends_nothing(manager, technician_mokotow, settings):
    import copy
    import uuid

    from hvaccrm.realtime import groups as g

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # A channel prefix of this test's own: Redis pub/sub is shared by every process on the server,
    # so only pushes of this process can reach the listener.
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"]["CONFIG"]["prefix"] = f"audit{uuid.uuid4().hex[:12]}"
    settings.CHANNEL_LAYERS = layers
    before = _all_tables_state()
    out = StringIO()
    with Listener([g.dispatch_group(), g.managers_group(), g.district_group("srodmiescie"), g.inbox_group(),
                   g.user_group(manager.pk), g.user_group(technician_mokotow.user_id)]) as listener:
        try:
            call_command("integration_check", "--confirm", stdout=out)
        except SystemExit:
            pass
        pushed_during_check = list(listener.got)
        # the control: the listener does hear a push that really is sent
        send_now(g.dispatch_group(), make_event("job.updated", row_id=1, data={"control": True}))
    text = out.getvalue()
    for name in ("Cross-system integration", "Message-to-map sync", "Prophecy-to-notification sync",
                 "Client portal system sync", "Data consistency verification"):
        assert f"✅ {name}:" in text, text
    assert "5/5 scenarios passed" in text
    assert _all_tables_state() == before
    assert mail.outbox == []
    assert pushed_during_check == []  # no push reached any socket group
    assert [m["event"]["data"] for m in listener.got] == [{"control": True}]


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
