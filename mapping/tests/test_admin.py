from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.test import Client

from hvaccrm.models import District, Site
from hvaccrm.tests.factories import ClientFactory, SiteFactory
from mapping import conf

pytestmark = pytest.mark.django_db


@pytest.fixture
def geocoder(monkeypatch):
    """A Nominatim-compatible server on 127.0.0.1 that knows one address."""
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.path)
            if "Marsza" in self.path:
                body = [{"lat": "52.2297", "lon": "21.0122", "display_name": "Marszałkowska, Warszawa"}]
            else:
                body = []
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(conf, "GEOCODER_URL", f"http://127.0.0.1:{server.server_port}")
    yield seen
    server.shutdown()


def admin_client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_the_district_page_shows_tier_ttl_and_the_polygon_map(administrator):
    d = District.objects.get(slug="wola")
    html = admin_client(administrator).get(f"/admin/hvaccrm/district/{d.pk}/change/").content.decode()
    assert "district-polygon-map" in html and "MultiPolygon" in html and "mapping/admin_maps.js" in html
    assert "leaflet.forms" not in html


def test_changing_the_tier_changes_the_cache_ttl(administrator):
    d = District.objects.get(slug="wola")
    c = admin_client(administrator)
    form = {"name": d.name, "affluence_tier": "low", "weight": "0.8", "reason": "fewer calls from Wola",
            "neighbours": [n.pk for n in d.neighbours.all()]}
    response = c.post(f"/admin/hvaccrm/district/{d.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    d.refresh_from_db()
    assert d.affluence_tier == "low" and d.cache_ttl == 900 and d.weight == 0.8


def test_the_site_form_has_a_point_picker_and_the_district_follows_the_point(administrator):
    site = SiteFactory()
    c = admin_client(administrator)
    html = c.get(f"/admin/hvaccrm/site/{site.pk}/change/").content.decode()
    assert 'class="site-picker-map"' in html
    form = {"client": site.client_id, "label": "", "street": site.street, "postal_code": "00-001", "city": "Warszawa",
            "latitude": "52.2360", "longitude": "20.9650",
            "equipment-TOTAL_FORMS": "0", "equipment-INITIAL_FORMS": "0", "equipment-MIN_NUM_FORMS": "0",
            "equipment-MAX_NUM_FORMS": "1000"}
    response = c.post(f"/admin/hvaccrm/site/{site.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    site.refresh_from_db()
    assert site.district.slug == "wola"


def test_an_address_without_a_point_is_geocoded_through_the_configured_service(administrator, geocoder):
    client = ClientFactory()
    form = {"client": client.pk, "label": "", "street": "ul. Marszałkowska 1", "postal_code": "00-001", "city": "Warszawa",
            "latitude": "", "longitude": "",
            "equipment-TOTAL_FORMS": "0", "equipment-INITIAL_FORMS": "0", "equipment-MIN_NUM_FORMS": "0",
            "equipment-MAX_NUM_FORMS": "1000"}
    response = admin_client(administrator).post("/admin/hvaccrm/site/add/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    site = Site.objects.get(street="ul. Marszałkowska 1")
    assert (site.latitude, site.longitude) == (52.2297, 21.0122) and site.district.slug == "srodmiescie"
    assert geocoder and "format=jsonv2" in geocoder[0]


def test_an_unknown_address_is_saved_without_a_point_for_staff_to_pick(administrator, geocoder):
    from mapping.services import address_geocode

    assert address_geocode(street="ul. Nieistniejąca 5") is None
    assert geocoder


def test_a_geocoder_that_is_down_does_not_block_saving(monkeypatch):
    from mapping.services import address_geocode

    monkeypatch.setattr(conf, "GEOCODER_URL", "http://127.0.0.1:9")  # nothing listens there
    assert address_geocode(street="ul. Marszałkowska 1") is None
