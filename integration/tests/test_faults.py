"""Defects that only faults and races show (issue 20): each test failed before its fix."""

from __future__ import annotations

import pytest

from communications.models import Notification
from hvaccrm.models import IntegrationLog
from hvaccrm.models.outbox import Target
from hvaccrm.services import job_transition
from hvaccrm.services.outbox import outbox_process
from hvaccrm.tests.factories import TechnicianFactory

pytestmark = pytest.mark.django_db


def test_notification_rows_run_after_a_worker_outage_each_tell_their_own_transition(anna_job, anna_user):
    # The worker was down while the job went the whole way: each row says what its own transition
    # said, so the client hears "completed" once, not once per pending row.
    anna_job.technician = TechnicianFactory()
    anna_job.save(update_fields=["technician"])
    for status in ("scheduled", "en_route", "on_site", "completed"):
        job_transition(job=anna_job, to_status=status)
    rows = IntegrationLog.objects.filter(target=Target.NOTIFICATIONS, kind="job.updated", object_id=str(anna_job.pk))
    for row in rows.order_by("id"):
        assert outbox_process(log_id=row.pk) == "succeeded"
    kinds = sorted(Notification.objects.filter(recipient=anna_user).values_list("kind", flat=True))
    assert kinds.count("job.completed") == 1
    assert "job.confirmed" not in kinds or kinds.count("job.confirmed") == 1
