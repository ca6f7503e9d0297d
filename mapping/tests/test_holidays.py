"""Slot proposals skip public holidays the company keeps closed."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from django.test import override_settings
from django.utils import timezone

from hvaccrm.tests.factories import ServiceJobFactory, TechnicianFactory, district
from mapping.services import slot_propose

pytestmark = pytest.mark.django_db


def at(day, hour):
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _proposed_days() -> set[date]:
    TechnicianFactory(home_district=district("mokotow"), skills=["split_ac"], shift_start=time(8), shift_end=time(16))
    job = ServiceJobFactory(requested_start=at(date(2026, 12, 25), 8), requested_end=at(date(2026, 12, 28), 16))
    return {timezone.localdate(p.start) for p in slot_propose(job=job, days=4, count=5, now=at(date(2026, 12, 20), 9))}


def test_no_slot_is_proposed_on_christmas_or_boxing_day():
    days = _proposed_days()
    assert days and not days & {date(2026, 12, 25), date(2026, 12, 26)}


@override_settings(OPEN_HOLIDAYS=["2026-12-26"])
def test_a_holiday_the_company_opens_gets_slots():
    assert date(2026, 12, 26) in _proposed_days()
