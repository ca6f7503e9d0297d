"""Public holidays are closed for booking unless the company opens them (hvaccrm/closed_days.py)."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import override_settings

from hvaccrm.errors import ServiceError
from hvaccrm.models import ServiceJob
from portal import selectors, services
from portal.tests.factories import at, window_key

pytestmark = pytest.mark.django_db
NOW = at(date(2026, 12, 14), 9)  # a Monday: Christmas falls within the booking weeks


def _offered_days(site) -> set[date]:
    return {w.start.date() for w in selectors.window_list(site=site, now=NOW) if w.open}


def test_christmas_and_boxing_day_are_offered_nowhere(client_anna):
    days = _offered_days(client_anna.sites.first())
    assert date(2026, 12, 23) in days  # a working day beside them is offered
    assert date(2026, 12, 25) not in days and date(2026, 12, 26) not in days
    assert selectors.window_from_key(window_key(date(2026, 12, 25), 8)) is None


def test_a_booking_on_a_holiday_is_refused_and_nothing_is_created(client_anna):
    with pytest.raises(ServiceError) as err:
        services.booking_create(user=client_anna.users.get(), site_id=client_anna.sites.first().pk,
                                service_type="repair", window_keys=[window_key(date(2026, 12, 26), 8)])
    assert "windows" in err.value.fields
    assert not ServiceJob.objects.exists()


@override_settings(OPEN_HOLIDAYS=["2026-12-26"])
def test_a_holiday_the_company_opens_is_offered(client_anna):
    days = _offered_days(client_anna.sites.first())
    assert date(2026, 12, 26) in days and date(2026, 12, 25) not in days
