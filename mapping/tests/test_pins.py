"""Dispatcher pins are kept apart from the optimiser's placements: a job a person assigned or timed
stays with its technician at the next plan; a job the optimiser placed may move."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import timezone

from hvaccrm.services import job_assign
from hvaccrm.tests.factories import TechnicianFactory, district
from mapping.services import day_plan
from mapping.tests.test_routing import make_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def far_and_near(db):
    """A technician of Wola (near the job in Wola) and one of Wilanów (far from it)."""
    near = TechnicianFactory(home_district=district("wola"), skills=["split_ac"], shift_start=time(8),
                             shift_end=time(16))
    far = TechnicianFactory(home_district=district("wilanow"), skills=["split_ac"], shift_start=time(8),
                            shift_end=time(16))
    return near, far


def test_a_job_the_dispatcher_assigned_stays_with_that_technician_at_the_next_plan(far_and_near, dispatcher):
    near, far = far_and_near
    day = timezone.localdate() + timedelta(days=1)
    job = make_job(day, 0)  # in Wola
    job = job_assign(job=job, technician=far, actor=dispatcher, reason="the client knows him")
    assert job.pinned_at is not None and job.pinned_by == dispatcher
    day_plan(day=day, reason="test")
    job.refresh_from_db()
    assert job.technician == far


def test_a_job_the_optimiser_placed_is_not_pinned_and_may_move(far_and_near):
    near, far = far_and_near
    day = timezone.localdate() + timedelta(days=1)
    job = make_job(day, 0)
    job = job_assign(job=job, technician=far)  # as the optimiser does: no actor, no time
    assert job.pinned_at is None
    day_plan(day=day, reason="test")
    job.refresh_from_db()
    assert job.technician == near
