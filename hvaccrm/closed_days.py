"""Days the company does not work: Polish public holidays, from the maintained `holidays` calendar
(a hand-written list goes stale: Christmas Eve became a holiday in 2025), unless the company opens
one (settings.OPEN_HOLIDAYS). The portal's booking windows, the maintenance generator, slot
proposals and the horizon planner all ask here, so a closed day is closed everywhere at once."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays
from django.conf import settings


@lru_cache(maxsize=32)
def _year(year: int) -> dict[date, str]:
    return dict(holidays.country_holidays("PL", years=year, language="pl").items())


def _opened() -> frozenset[date]:
    # Read on each call: tests and the office change the setting without a restart of this module.
    return frozenset(date.fromisoformat(d) for d in settings.OPEN_HOLIDAYS if d)


def holiday_name(day: date) -> str | None:
    """The holiday's Polish name when `day` is a public holiday the company keeps closed."""
    name = _year(day.year).get(day)
    if name is None or day in _opened():
        return None
    return name


def day_is_closed(day: date) -> bool:
    """True on a public holiday the company has not opened (weekends are each caller's rule)."""
    return holiday_name(day) is not None
