"""SQL queries per page do not grow with the client's number of sites, units and visits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.tests.factories import EquipmentFactory, ServiceJobFactory, SiteFactory, scheduled_job

pytestmark = pytest.mark.django_db

PAGES = ["portal:home", "portal:visits"]


def _grow(client, technician, *, sites: int, units: int, jobs: int) -> None:
    for _ in range(sites):
        SiteFactory(client=client)
    all_sites = list(client.sites.all())
    for i in range(units):
        EquipmentFactory(site=all_sites[i % len(all_sites)], last_maintenance_on=timezone.localdate() - timedelta(days=400))
    now = timezone.now()
    for i in range(jobs):
        site = all_sites[i % len(all_sites)]
        if i % 3 == 0:
            scheduled_job(client=client, technician=technician, start=now + timedelta(hours=2 + i), site=site)
        else:
            ServiceJobFactory(site=site, status="completed" if i % 2 else "new", completed_at=now,
                              equipment=site.equipment.first())


def _count(http, name: str, query: str = "") -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = http.get(reverse(name) + query)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("name,query", [("portal:home", ""), ("portal:visits", ""), ("portal:visits", "?show=past")])
def test_queries_per_page_do_not_grow_with_the_clients_objects(anna_http, client_anna, technician_mokotow, name, query,
                                                              django_assert_max_num_queries):
    _grow(client_anna, technician_mokotow, sites=1, units=1, jobs=2)
    small = _count(anna_http, name, query)
    _grow(client_anna, technician_mokotow, sites=6, units=25, jobs=60)
    large = _count(anna_http, name, query)
    assert large == small, f"{name}: {small} queries with few objects, {large} with many"
    with django_assert_max_num_queries(small):
        anna_http.get(reverse(name) + query)


def test_no_portal_page_loads_a_district_boundary(anna_http, client_anna, technician_mokotow):
    """A district's GeoJSON boundary (kilobytes, decoded per joined row) is shown on no portal page:
    the lists, details and messages join districts for their names only (issue 21's CPU per page)."""
    from communications.tests.factories import ConversationFactory, MessageFactory

    _grow(client_anna, technician_mokotow, sites=2, units=2, jobs=6)
    site = client_anna.sites.first()
    unit = EquipmentFactory(site=site)
    job = ServiceJobFactory(site=site, equipment=unit)
    MessageFactory(conversation=ConversationFactory(client=client_anna), district=site.district)
    paths = [reverse("portal:home"), reverse("portal:visits"), reverse("portal:visits") + "?show=past",
             reverse("portal:site", args=[site.pk]), reverse("portal:equipment", args=[unit.pk]),
             reverse("portal:visit", args=[job.pk]), reverse("portal:messages")]
    for path in paths:
        with CaptureQueriesContext(connection) as ctx:
            assert anna_http.get(path).status_code == 200, path
        assert not [q["sql"] for q in ctx.captured_queries if '"hvaccrm_district"."geometry"' in q["sql"]], path
