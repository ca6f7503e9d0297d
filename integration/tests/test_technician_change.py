"""Issue 13: a job's technician changes, the client is told who comes now, once, in their language."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from hvaccrm.models import IntegrationLog
from hvaccrm.services import outbox
from hvaccrm.services.jobs import job_assign, job_create
from hvaccrm.tests.factories import TechnicianFactory


def test_reassigning_a_scheduled_job_tells_the_client_the_new_technician_once(
        client_anna, anna_user, dispatcher, django_capture_on_commit_callbacks):
    from communications.models import Notification

    first = TechnicianFactory(user__first_name="Jan")
    second = TechnicianFactory(user__first_name="Piotr")
    start = timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=3), time(10, 0)))
    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(site=client_anna.sites.get(), service_type="repair", description="Nie chłodzi")
        job = job_assign(job=job, technician=first, scheduled_start=start, scheduled_end=start + timedelta(hours=2),
                         actor=dispatcher, reason="first call")
    last = IntegrationLog.objects.order_by("-pk").values_list("pk", flat=True).first()

    with django_capture_on_commit_callbacks(execute=True):
        job_assign(job=job, technician=second, actor=dispatcher, reason="first technician is ill")

    [row] = IntegrationLog.objects.filter(pk__gt=last, target="notifications", kind="job.updated")
    assert row.state == "succeeded", row.error
    told = Notification.objects.filter(recipient=anna_user, kind="job.technician_changed")
    [note] = told
    assert note.title == "Zmiana technika"
    assert "Piotr" in note.body and f"{start:%d.%m.%Y}, 10:00–12:00" in note.body
    assert note.payload["technician"] == second.pk

    # The worker runs the row again (a retry after a crash): the dedupe key keeps it at one.
    IntegrationLog.objects.filter(pk=row.pk).update(state="pending")
    assert outbox.outbox_process(log_id=row.pk) == "succeeded"
    assert told.count() == 1
