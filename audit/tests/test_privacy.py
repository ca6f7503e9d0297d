"""Audit's part of a client's erasure: repairs of the client's objects keep who and what, not the result."""

from __future__ import annotations

import pytest

from audit import privacy
from audit.models import RepairRecord
from hvaccrm.privacy_core import erasure_context
from hvaccrm.tests.factories import ServiceJobFactory

pytestmark = pytest.mark.django_db


def test_a_repair_of_the_clients_job_is_exported_then_kept_without_its_result(client_anna, client_bartek, administrator):
    job = ServiceJobFactory(site=client_anna.sites.get())
    other = ServiceJobFactory(site=client_bartek.sites.get())
    mine = RepairRecord.objects.create(run_id="r1", kind="job_not_synced", object_type="hvaccrm.servicejob",
                                       object_id=str(job.pk), action="resync", result={"text": "Anna Kowalska"})
    theirs = RepairRecord.objects.create(run_id="r1", kind="job_not_synced", object_type="hvaccrm.servicejob",
                                         object_id=str(other.pk), action="resync", result={"text": "Bartek"})
    assert [r["result"] for r in privacy.export(client=client_anna)["repairs"]] == [{"text": "Anna Kowalska"}]

    counts = privacy.erase(client=client_anna, context=erasure_context(client=client_anna, actor=administrator))

    assert counts == {"repair_results_cleared": 1}
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.result, mine.action, mine.ok) == ({}, "resync", True) and theirs.result == {"text": "Bartek"}
