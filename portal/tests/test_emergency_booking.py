"""An emergency booked in the portal: owed through the outbox with the booking, never skipped by a
failing confirmation e-mail, not duplicated by a resubmission, found and repaired by audit."""

from __future__ import annotations

from smtplib import SMTPException

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from audit.consistency import get_data_consistency_report
from audit.services import repair_data_inconsistencies
from communications.models import EmergencyAlert, Notification
from hvaccrm.models import IntegrationLog, ServiceJob

pytestmark = pytest.mark.django_db

EMERGENCY = "Awaria! Leje się woda z jednostki, zalało biuro"


class RefusingMailServer(BaseEmailBackend):
    """The mail server is the one thing outside the process here: it refuses every message."""

    def send_messages(self, email_messages):
        raise SMTPException("451 try again later")


def _book(http, site, description=EMERGENCY):
    return http.post(reverse("portal:book"), {"site": site.pk, "service_type": "repair", "description": description})


def _alerted(job: ServiceJob) -> set[int]:
    alerts = EmergencyAlert.objects.filter(job=job).values_list("pk", flat=True)
    return set(Notification.objects.filter(related_type="communications.emergencyalert",
                                           related_id__in=[str(a) for a in alerts]).values_list("recipient_id", flat=True))


def test_an_emergency_booking_whose_confirmation_email_fails_still_alerts_and_a_resubmission_changes_nothing(
        settings, anna_http, client_anna, technician_mokotow, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingMailServer"
    with django_capture_on_commit_callbacks(execute=True):
        response = _book(anna_http, client_anna.sites.first())
    job = ServiceJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("portal:booked", args=[job.pk])
    assert technician_mokotow.user_id in _alerted(job)
    confirmation = IntegrationLog.objects.get(kind="booking.confirmation", object_id=str(job.pk))
    assert confirmation.state == "failed" and "451" in confirmation.error  # the sweep sends it again
    with django_capture_on_commit_callbacks(execute=True):
        again = _book(anna_http, client_anna.sites.first())
    assert again.status_code == 302 and again.url == response.url
    assert ServiceJob.objects.count() == 1 and EmergencyAlert.objects.count() == 1
    assert IntegrationLog.objects.filter(kind="emergency.alert").count() == 1
    assert Notification.objects.filter(recipient_id=technician_mokotow.user_id, kind="emergency.alert").count() == 1


def test_the_alert_row_is_written_with_the_booking_and_published_to_the_emergency_queue(
        settings, anna_user, client_anna):
    from portal import services

    job, booking = services.booking_create(user=anna_user, site_id=client_anna.sites.first().pk,
                                           service_type="repair", description=EMERGENCY)
    row = IntegrationLog.objects.get(kind="emergency.alert", object_id=str(job.pk))
    assert row.object_type == "hvaccrm.servicejob" and row.payload["job"] == job.pk and row.payload["message"] is None
    assert booking.emergency and row.payload["district"] == "mokotow"


def test_an_emergency_booking_that_reached_nobody_is_found_and_repair_dispatches_it_once(
        settings, anna_user, client_anna, technician_mokotow):
    from portal import services

    settings.OUTBOX_PUBLISH_ON_COMMIT = False  # the publish is lost (a worker died, the broker was down)
    job, _booking = services.booking_create(user=anna_user, site_id=client_anna.sites.first().pk,
                                            service_type="repair", description=EMERGENCY)
    report = get_data_consistency_report(kinds=["emergency_booking_without_notification"], grace_seconds=0)
    assert report["findings"][0]["objects"] == [job.pk]
    result = repair_data_inconsistencies(dry_run=False, kinds=["emergency_booking_without_notification"],
                                         grace_seconds=0)
    assert result["failed"] == 0 and technician_mokotow.user_id in _alerted(job)
    assert get_data_consistency_report(kinds=["emergency_booking_without_notification"], grace_seconds=0)["consistent"]
    repair_data_inconsistencies(dry_run=False, kinds=["emergency_booking_without_notification"], grace_seconds=0)
    assert EmergencyAlert.objects.filter(job=job).count() == 1
    assert Notification.objects.filter(recipient_id=technician_mokotow.user_id, kind="emergency.alert").count() == 1
