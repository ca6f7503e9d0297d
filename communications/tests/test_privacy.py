"""Communications' part of a client's export and erasure (registered with hvaccrm.privacy)."""

from __future__ import annotations

import pytest

from communications import privacy
from communications.models import Notification
from hvaccrm.privacy import ERASED
from hvaccrm.privacy_core import erasure_context
from hvaccrm.tests.factories import ServiceJobFactory

pytestmark = pytest.mark.django_db


def test_staff_notifications_about_the_clients_job_read_the_same_erasure_marker_as_the_clients_own(
        client_anna, anna_user, dispatcher, administrator):
    job = ServiceJobFactory(site=client_anna.sites.get(), description="Kapie woda u Anny Kowalskiej")
    staff = Notification.objects.create(recipient=dispatcher, kind="job.created", title="Anna Kowalska",
                                        body=job.description, related_type="hvaccrm.servicejob",
                                        related_id=str(job.pk))
    own = Notification.objects.create(recipient=anna_user, kind="job.confirmed", title="Wizyta", body="Jutro o 10")
    unrelated = Notification.objects.create(recipient=dispatcher, kind="job.created", title="Bartek", body="x")

    context = erasure_context(client=client_anna, actor=administrator)
    privacy.erase(client=client_anna, context=context)

    staff.refresh_from_db()
    own.refresh_from_db()
    assert (staff.title, staff.body) == (ERASED, ERASED) == (own.title, own.body)
    assert Notification.objects.get(pk=unrelated.pk).body == "x"


def test_the_export_lists_the_clients_notifications(client_anna, anna_user):
    Notification.objects.create(recipient=anna_user, kind="job.confirmed", title="Wizyta", body="Jutro o 10")
    assert [n["title"] for n in privacy.export(client=client_anna)["notifications"]] == ["Wizyta"]
