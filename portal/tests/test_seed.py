from __future__ import annotations

import random

import pytest

from hvaccrm.models import ServiceJob
from portal.seed import MARK, seed_portal
from portal.tests.factories import ClientFactory, SiteFactory, TechnicianFactory, district

pytestmark = pytest.mark.django_db


def test_the_demo_seeder_gives_anna_a_live_visit_and_one_to_rate_once():
    anna = ClientFactory(email="anna@demo.hvac.example")
    SiteFactory(client=anna, district=district("mokotow"))
    TechnicianFactory()
    seed_portal(rng=random.Random(1), stdout=None)
    seed_portal(rng=random.Random(1), stdout=None)
    jobs = ServiceJob.objects.filter(client=anna, description__startswith=MARK)
    assert sorted(jobs.values_list("status", flat=True)) == ["completed", "scheduled"]
    assert jobs.get(status="scheduled").eta is not None
