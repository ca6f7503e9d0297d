"""Maintenance notices: each is sent once per object and period, on the right day count."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import translation

from communications.models import Notification
from communications.services.maintenance import (
    agreement_end_notices_send,
    certificate_expiry_notices_send,
    maintenance_notices_send,
    maintenance_reminders_send,
)
from hvaccrm.models import ServiceJob
from hvaccrm.services import agreement_create
from hvaccrm.services.maintenance import _day_bounds, visit_from_move_token
from hvaccrm.tests.factories import EquipmentFactory, TechnicianFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 4, 6)  # a Monday in the cooling season


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _planned_visit(client, *, day: date, technician=None) -> ServiceJob:
    site = client.sites.first()
    unit = EquipmentFactory(site=site, kind="split_ac")
    start, end = _day_bounds(day)
    return ServiceJob.objects.create(
        client=client, site=site, equipment=unit, service_type="maintenance", source="system",
        requested_start=start, requested_end=end, district=site.district, period_key=f"service:{day.isoformat()}",
        status="scheduled" if technician else "new", technician=technician,
        scheduled_start=start if technician else None, scheduled_end=end if technician else None,
    )


def _notes(kind: str) -> list[Notification]:
    return list(Notification.objects.filter(kind=kind).order_by("pk"))


def test_a_client_is_reminded_once_seven_days_before_a_planned_visit_with_a_move_link(client_anna, anna_user):
    visit = _planned_visit(client_anna, day=TODAY + timedelta(days=7))
    assert maintenance_reminders_send(today=TODAY - timedelta(days=1)) == 0  # eight days before: not yet
    assert maintenance_reminders_send(today=TODAY) == 1
    assert maintenance_reminders_send(today=TODAY) == 0  # the same night again
    assert maintenance_reminders_send(today=TODAY + timedelta(days=1)) == 0  # and the next night
    (note,) = _notes("maintenance.reminder")
    assert note.recipient_id == anna_user.pk
    link = note.payload["move_link"]
    assert link in note.body and "/portal/maintenance/move/" in link
    assert visit_from_move_token(token=link.rstrip("/").rsplit("/", 1)[1], today=TODAY).pk == visit.pk


def test_a_visit_already_given_to_a_technician_is_reminded_without_a_move_link(client_anna, technician_mokotow):
    _planned_visit(client_anna, day=TODAY + timedelta(days=5), technician=technician_mokotow)
    assert maintenance_reminders_send(today=TODAY) == 1
    (note,) = _notes("maintenance.reminder")
    assert note.payload["move_link"] == "" and "/move/" not in note.body


def test_a_moved_visit_is_reminded_again_for_its_new_day(client_anna):
    visit = _planned_visit(client_anna, day=TODAY + timedelta(days=3))
    assert maintenance_reminders_send(today=TODAY) == 1
    start, end = _day_bounds(TODAY + timedelta(days=6))
    ServiceJob.objects.filter(pk=visit.pk).update(requested_start=start, requested_end=end)
    assert maintenance_reminders_send(today=TODAY) == 1
    assert len(_notes("maintenance.reminder")) == 2


def _agreement(client, *, ends_on: date, auto_renew: bool = False):
    site = client.sites.first()
    unit = EquipmentFactory(site=site, kind="split_ac")
    return agreement_create(client=client, sites=[site], equipment=[unit], starts_on=ends_on - timedelta(days=365),
                            ends_on=ends_on, price=Decimal("450"), auto_renew=auto_renew)


def test_the_office_is_told_once_thirty_days_before_an_agreement_ends(client_anna, dispatcher, manager, anna_user):
    agreement = _agreement(client_anna, ends_on=TODAY + timedelta(days=30))
    assert agreement_end_notices_send(today=TODAY - timedelta(days=1)) == 0  # 31 days before
    assert agreement_end_notices_send(today=TODAY) == 2  # the dispatcher and the manager
    assert agreement_end_notices_send(today=TODAY) == 0
    assert agreement_end_notices_send(today=TODAY + timedelta(days=10)) == 0
    notes = _notes("maintenance.agreement_ending")
    assert {n.recipient_id for n in notes} == {dispatcher.pk, manager.pk}
    assert anna_user.pk not in {n.recipient_id for n in notes}
    assert notes[0].payload["agreement"] == agreement.pk


def test_an_agreement_already_renewed_needs_no_notice(client_anna, dispatcher):
    from hvaccrm.services import agreement_renew

    agreement_renew(agreement=_agreement(client_anna, ends_on=TODAY + timedelta(days=20)))
    assert agreement_end_notices_send(today=TODAY) == 0


def test_the_office_and_the_technician_are_told_once_sixty_days_before_a_certificate_lapses(dispatcher, manager):
    tech = TechnicianFactory(fgas_certificate_expires_on=TODAY + timedelta(days=60))
    TechnicianFactory(fgas_certificate_expires_on=TODAY + timedelta(days=400))  # far off: nothing
    assert certificate_expiry_notices_send(today=TODAY - timedelta(days=1)) == 0  # 61 days before
    assert certificate_expiry_notices_send(today=TODAY) == 3
    assert certificate_expiry_notices_send(today=TODAY) == 0
    assert certificate_expiry_notices_send(today=TODAY + timedelta(days=59)) == 0
    notes = _notes("maintenance.certificate_expiring")
    assert {n.recipient_id for n in notes} == {dispatcher.pk, manager.pk, tech.user_id}
    assert tech.fgas_certificate_number in notes[0].body


def test_a_renewed_certificate_is_a_new_period(dispatcher):
    tech = TechnicianFactory(fgas_certificate_expires_on=TODAY + timedelta(days=30))
    assert certificate_expiry_notices_send(today=TODAY) == 2
    tech.fgas_certificate_expires_on = TODAY + timedelta(days=50)  # renewed for a short term
    tech.save(update_fields=["fgas_certificate_expires_on"])
    assert certificate_expiry_notices_send(today=TODAY) == 2


def test_the_nightly_run_sends_each_notice_once(client_anna, dispatcher):
    _planned_visit(client_anna, day=TODAY + timedelta(days=7))
    _agreement(client_anna, ends_on=TODAY + timedelta(days=30))
    TechnicianFactory(fgas_certificate_expires_on=TODAY + timedelta(days=60))
    first = maintenance_notices_send(today=TODAY)
    assert first == {"reminders": 1, "agreements_ending": 1, "certificates_expiring": 2}
    assert maintenance_notices_send(today=TODAY) == {"reminders": 0, "agreements_ending": 0, "certificates_expiring": 0}
