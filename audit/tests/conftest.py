"""Fixtures of the audit tests; the conversation, sending and row lookup come from the integration
tests' fixtures."""

from __future__ import annotations

import pytest

from hvaccrm.tests.factories import TechnicianFactory, UserFactory, district
from integration.tests.conftest import anna_conversation, anna_job, rows_of, send  # noqa: F401 - shared fixtures


@pytest.fixture
def technician_srodmiescie(db):
    tech = TechnicianFactory(home_district=district("srodmiescie"), on_shift=True)
    return tech


@pytest.fixture
def manager_two(db):
    return UserFactory(username="michal", role="manager", is_staff=True)
