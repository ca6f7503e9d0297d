"""Closed days: Polish public holidays from the maintained calendar, unless the company opens one."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from hvaccrm.closed_days import day_is_closed, holiday_name
from hvaccrm.models import ServiceJob
from hvaccrm.services import agreement_create, maintenance_visits_plan
from hvaccrm.tests.factories import ClientFactory, EquipmentFactory, SiteFactory, TechnicianFactory, district


def test_christmas_boxing_day_and_christmas_eve_are_closed_a_plain_day_is_not():
    assert day_is_closed(date(2026, 12, 25)) and day_is_closed(date(2026, 12, 26))
    assert day_is_closed(date(2026, 12, 24))  # a holiday since 2025: the calendar knows, a list would not
    assert holiday_name(date(2026, 11, 11))
    assert not day_is_closed(date(2026, 12, 28))


@override_settings(OPEN_HOLIDAYS=["2026-12-24"])
def test_a_holiday_the_company_opens_is_a_working_day():
    assert not day_is_closed(date(2026, 12, 24)) and day_is_closed(date(2026, 12, 25))


@pytest.mark.django_db
def test_the_visit_generator_puts_no_visit_on_a_holiday():
    TechnicianFactory(home_district=district("mokotow"), shift_start=time(8), shift_end=time(16),
                      skills=["split_ac", "fgas_certified"])
    client = ClientFactory()
    site = SiteFactory(client=client)
    units = [EquipmentFactory(site=site, kind="split_ac") for _ in range(45)]
    # One technician, eight visits a day: 45 visits from Monday 30 March run past Easter Monday.
    agreement_create(client=client, sites=[site], equipment=units, starts_on=date(2026, 3, 1),
                     ends_on=date(2027, 3, 1), price=Decimal("450"))
    maintenance_visits_plan(today=date(2026, 3, 29), horizon_days=60)
    days = {timezone.localdate(j.requested_start) for j in ServiceJob.objects.exclude(requested_start=None)}
    assert date(2026, 4, 7) in days and date(2026, 4, 6) not in days
