"""The client's maintenance agreements page and the reminder's one-click move link."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from communications.models import Notification
from hvaccrm.models import IntegrationLog, ServiceJob
from hvaccrm.services import agreement_create
from hvaccrm.services.maintenance import _day_bounds, season_window, visit_move_token
from hvaccrm.services.outbox import outbox_process
from portal.tests.factories import EquipmentFactory

pytestmark = pytest.mark.django_db


def _weekday_from(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


@pytest.fixture
def season(settings) -> tuple[date, date]:
    """A cooling season around the real today (the move page reads the clock): from the month ten
    days ahead to the month forty days ahead, within one year."""
    today = timezone.localdate()
    a, b = today + timedelta(days=10), today + timedelta(days=40)
    last = b.month if b.year == a.year else 12
    settings.MAINTENANCE_COOLING_MONTHS = f"{a.month}-{last}"
    return season_window(season="cooling", year=a.year)


def _agreement(client, *, units: int = 1):
    site = client.sites.first()
    equipment = [EquipmentFactory(site=site, kind="split_ac") for _ in range(units)]
    today = timezone.localdate()
    return agreement_create(client=client, sites=[site], equipment=equipment, starts_on=today - timedelta(days=30),
                            ends_on=today + timedelta(days=335), price=Decimal("450"))


def _visit(agreement, *, day: date, status: str = "new") -> ServiceJob:
    unit = agreement.equipment.first()
    start, end = _day_bounds(day)
    return ServiceJob.objects.create(
        client=agreement.client, site=unit.site, equipment=unit, service_type="maintenance", source="system",
        requested_start=start, requested_end=end, district=unit.site.district, status=status, agreement=agreement,
        period_key=f"agr{agreement.pk}:{day.year}:cooling", season="cooling",
        completed_at=start if status == "completed" else None,
    )


# --- the agreements page --------------------------------------------------------------------------


def test_a_client_sees_their_agreements_with_units_and_visits(anna_http, client_anna, season):
    agreement = _agreement(client_anna)
    _visit(agreement, day=_weekday_from(timezone.localdate() + timedelta(days=12)))
    page = anna_http.get(reverse("portal:agreements"))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-agreement="{agreement.pk}"' in html and str(agreement.equipment.first()) in html
    assert "planned" in html or "zaplanowana" in html
    assert anna_http.get(reverse("portal:agreement", args=[agreement.pk])).status_code == 200


def test_another_clients_agreement_is_not_visible(anna_http, client_anna, client_bartek):
    theirs = _agreement(client_bartek)
    assert anna_http.get(reverse("portal:agreement", args=[theirs.pk])).status_code == 404
    assert f'data-agreement="{theirs.pk}"' not in anna_http.get(reverse("portal:agreements")).content.decode()


def test_the_agreements_page_is_paginated_in_a_fixed_number_of_queries(anna_http, client_anna,
                                                                       django_assert_max_num_queries):
    for _ in range(12):
        _agreement(client_anna, units=2)
    with django_assert_max_num_queries(14):
        first = anna_http.get(reverse("portal:agreements"))
    assert first.content.decode().count("data-agreement=") == 10
    assert anna_http.get(reverse("portal:agreements") + "?page=2").content.decode().count("data-agreement=") == 2


# --- the move link ----------------------------------------------------------------------------------


@pytest.fixture
def planned(client_anna, technician_mokotow, season):
    """An agreement visit in the season, at least a week away (the reminder's case)."""
    day = _weekday_from(max(season[0], timezone.localdate() + timedelta(days=3)))
    return _visit(_agreement(client_anna), day=day)


def test_the_move_link_moves_the_visit_once_and_the_office_is_told(client, planned, season, dispatcher):
    url = reverse("portal:maintenance_move", args=[visit_move_token(job=planned)])
    shown = client.get(url)
    assert shown.status_code == 200 and shown.context["days"]
    day = shown.context["days"][-1]  # an open working day of the season, not the visit's own
    assert season[0] <= day <= season[1]
    moved = client.post(url, {"day": day.isoformat()})
    assert moved.status_code == 200
    planned.refresh_from_db()
    assert timezone.localdate(planned.requested_start) == day
    # The office's notice was recorded with the move; its handler tells the dispatcher once.
    row = IntegrationLog.objects.get(kind="visit.moved", object_id=str(planned.pk))
    outbox_process(log_id=row.pk)
    outbox_process(log_id=row.pk)
    assert Notification.objects.filter(kind="maintenance.visit_moved", recipient=dispatcher).count() == 1
    # The same link again: a clear page, nothing changed.
    again = client.post(url, {"day": shown.context["days"][0].isoformat()})
    assert again.status_code == 410
    assert "already used" in again.content.decode() or "już użyty" in again.content.decode()
    planned.refresh_from_db()
    assert timezone.localdate(planned.requested_start) == day


@pytest.mark.parametrize("which", ["outside", "past"])
def test_the_move_link_refuses_a_day_outside_the_season_or_in_the_past(client, planned, season, which):
    before = planned.requested_start
    url = reverse("portal:maintenance_move", args=[visit_move_token(job=planned)])
    day = _weekday_from(season[1] + timedelta(days=1)) if which == "outside" else timezone.localdate() - timedelta(days=1)
    answer = client.post(url, {"day": day.isoformat()}, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400
    planned.refresh_from_db()
    assert planned.requested_start == before
    assert not IntegrationLog.objects.filter(kind="visit.moved").exists()
    assert client.get(url).status_code == 200  # the link still works for a good day


def test_a_bad_or_tampered_link_shows_a_clear_page_and_changes_nothing(client, planned):
    token = visit_move_token(job=planned)
    for bad in ("nonsense", token[:-2] + "xx"):
        answer = client.get(reverse("portal:maintenance_move", args=[bad]))
        assert answer.status_code == 410
        assert "portal/maintenance_move_invalid.html" in [t.name for t in answer.templates]


def test_a_link_of_a_visit_given_to_a_technician_no_longer_works(client, planned, technician_mokotow):
    token = visit_move_token(job=planned)
    ServiceJob.objects.filter(pk=planned.pk).update(status="cancelled")
    assert client.get(reverse("portal:maintenance_move", args=[token])).status_code == 410
