"""Portal test data on top of the core factories."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from hvaccrm.tests.factories import (  # noqa: F401 - re-exported for the portal's tests
    ClientFactory,
    EquipmentFactory,
    ServiceJobFactory,
    SiteFactory,
    TechnicianFactory,
    UserFactory,
    district,
)


def next_weekday(days_ahead: int = 3) -> datetime.date:
    """A Monday-Friday date at least `days_ahead` days from today (local time)."""
    day = timezone.localdate() + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def window_key(day, hour: int = 8) -> str:
    return f"{day:%Y-%m-%d}T{hour:02d}"


def at(day, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def scheduled_job(*, client, technician, start: datetime, hours: int = 4, **kwargs):
    """A job scheduled for `start` with a technician (a scheduled job must have one)."""
    site = kwargs.pop("site", None) or client.sites.first()
    return ServiceJobFactory(site=site, client=client, status="scheduled", technician=technician,
                             scheduled_start=start, scheduled_end=start + timedelta(hours=hours), **kwargs)
