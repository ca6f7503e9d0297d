"""Mapping's part of a client's erasure: the technician's GPS trace at the client's address goes."""

from __future__ import annotations

import pytest

from hvaccrm.privacy_core import erasure_context
from hvaccrm.tests.factories import ServiceJobFactory, TechnicianFactory
from mapping import privacy
from mapping.models import LocationPing
from mapping.tests.factories import LocationPingFactory

pytestmark = pytest.mark.django_db


def test_the_pings_of_the_clients_technician_at_the_clients_site_are_erased_and_no_other(client_anna, administrator):
    site = client_anna.sites.get()
    technician, other = TechnicianFactory(), TechnicianFactory()
    ServiceJobFactory(site=site, technician=technician, status="completed")
    at_home = LocationPingFactory(technician=technician, latitude=site.latitude + 0.0005, longitude=site.longitude)
    elsewhere = LocationPingFactory(technician=technician, latitude=52.2360, longitude=20.9650)
    someone_else = LocationPingFactory(technician=other, latitude=site.latitude, longitude=site.longitude)
    assert privacy.export(client=client_anna)["technician_positions_at_your_sites"] == 1

    counts = privacy.erase(client=client_anna, context=erasure_context(client=client_anna, actor=administrator))

    assert counts == {"pings": 1}
    assert set(LocationPing.objects.values_list("pk", flat=True)) == {elsewhere.pk, someone_else.pk}
    assert not LocationPing.objects.filter(pk=at_home.pk).exists()
    assert privacy.export(client=client_anna)["technician_positions_at_your_sites"] == 0
