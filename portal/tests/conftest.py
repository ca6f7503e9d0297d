from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from portal.tests.factories import EquipmentFactory


@pytest.fixture
def anna_http(anna_user) -> HttpClient:
    http = HttpClient(enforce_csrf_checks=False)
    http.force_login(anna_user)
    return http


@pytest.fixture
def bartek_http(bartek_user) -> HttpClient:
    http = HttpClient()
    http.force_login(bartek_user)
    return http


@pytest.fixture
def anna_unit(client_anna):
    return EquipmentFactory(site=client_anna.sites.first(), serial_number="ANNA-SN-1")


@pytest.fixture
def bartek_unit(client_bartek):
    return EquipmentFactory(site=client_bartek.sites.first(), serial_number="BARTEK-SN-1")
