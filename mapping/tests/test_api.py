from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from hvaccrm.tests.factories import ServiceJobFactory
from mapping.models import LocationPing

pytestmark = pytest.mark.django_db


def api(user=None) -> APIClient:
    c = APIClient()
    if user is not None:
        c.force_authenticate(user)
    return c


def test_the_districts_geojson_has_every_district_with_its_open_jobs(dispatcher, client_anna):
    ServiceJobFactory(site=client_anna.sites.get())
    ServiceJobFactory(site=client_anna.sites.get(), status="completed")
    body = api(dispatcher).get("/api/mapping/districts.geojson").json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 18
    mokotow = next(f for f in body["features"] if f["id"] == "mokotow")
    assert mokotow["properties"]["open_jobs"] == 1 and mokotow["properties"]["cache_ttl"] == 300
    assert mokotow["geometry"]["type"] == "MultiPolygon"


def test_map_layers_are_for_the_office_only(anna_user, technician_mokotow):
    for user in (anna_user, technician_mokotow.user):
        assert api(user).get("/api/mapping/districts.geojson").status_code == 403
        assert api(user).get("/api/mapping/technicians.geojson").status_code == 403
    assert api().get("/api/mapping/jobs.geojson").status_code in (401, 403)


def test_a_technician_in_private_mode_shows_as_private_without_a_point(dispatcher, technician_mokotow):
    technician_mokotow.last_latitude, technician_mokotow.last_longitude = 52.19, 21.02
    technician_mokotow.private_mode = True
    technician_mokotow.save()
    body = api(dispatcher).get("/api/mapping/technicians.geojson").json()
    row = next(f for f in body["features"] if f["id"] == technician_mokotow.pk)
    assert row["geometry"] is None and row["properties"]["private"] is True


def test_a_technician_posts_a_ping_over_rest_and_a_rejection_names_its_reason(technician_mokotow):
    c = api(technician_mokotow.user)
    payload = {"latitude": 52.19, "longitude": 21.02, "accuracy": 10, "speed": 2, "heading": 10,
               "device_time": (timezone.now() - timedelta(seconds=3)).isoformat(), "seq": 1}
    assert c.post("/api/mapping/pings/", payload, format="json").status_code == 201
    assert c.post("/api/mapping/pings/", payload, format="json").json()["status"] == "duplicate"
    stale = {**payload, "seq": 2, "device_time": (timezone.now() - timedelta(days=1)).isoformat()}
    response = c.post("/api/mapping/pings/", stale, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "stale_time"
    assert LocationPing.objects.count() == 1


def test_only_technicians_may_post_pings(dispatcher):
    response = api(dispatcher).post("/api/mapping/pings/", {}, format="json")
    assert response.status_code == 403


def test_private_mode_is_switched_over_the_api(technician_mokotow):
    response = api(technician_mokotow.user).post("/api/mapping/private-mode/", {"private": True}, format="json")
    assert response.json() == {"private": True}
    technician_mokotow.refresh_from_db()
    assert technician_mokotow.private_mode


def test_the_api_schema_stays_valid(administrator):
    c = api(administrator)
    assert c.get("/api/schema/").status_code == 200
