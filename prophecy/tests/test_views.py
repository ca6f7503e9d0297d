from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from hvaccrm.tests.factories import EquipmentFactory, ServiceJobFactory, district
from prophecy import services
from prophecy.models import Prediction
from prophecy.stores import store_get

pytestmark = pytest.mark.django_db


def _seed():
    equipment = EquipmentFactory()
    job = ServiceJobFactory(site=equipment.site, equipment=equipment, description="Woda kapie z jednostki wewnętrznej",
                            report={"resolution": "Udrożniono odpływ skroplin"})
    services.sync_object(object_type="hvaccrm.servicejob", object_id=str(job.pk), text=job.description,
                         district="mokotow", service_type="repair", created="2026-01-10T10:00:00+01:00",
                         client_id=job.client_id)
    return job


def test_the_search_page_shows_district_date_equipment_and_resolution_to_staff(client, administrator):
    _seed()
    client.force_login(administrator)
    page = client.get(reverse("prophecy:search"), {"q": "water dripping from the indoor unit"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Mokotów" in html and "2026-01-10" in html and "Udrożniono odpływ skroplin" in html and "Daikin" in html


def test_the_search_page_says_when_the_store_is_down(client, administrator):
    _seed()
    client.force_login(administrator)
    store_get().available = False
    try:
        html = client.get(reverse("prophecy:search"), {"q": "kapie woda"}).content.decode()
    finally:
        store_get().available = True
    assert "keyword" in html


def test_clients_and_anonymous_users_cannot_search(client, anna_user):
    assert client.get(reverse("prophecy:search"), {"q": "x"}).status_code == 302
    client.force_login(anna_user)
    assert client.get(reverse("prophecy:search"), {"q": "x"}).status_code == 302
    assert client.get("/api/prophecy/search/", {"q": "x"}).status_code == 403
    assert client.get("/api/prophecy/hotspots.geojson").status_code == 403


def test_the_api_search_returns_the_documented_shape(client, dispatcher):
    _seed()
    client.force_login(dispatcher)
    body = client.get("/api/prophecy/search/", {"q": "woda kapie", "limit": 3}).json()
    assert body["source"] in {"vector", "hybrid", "keyword", "cache"}
    assert {"id", "score", "text", "district", "created"} <= set(body["results"][0])


def test_the_command_prints_exactly_the_documented_json():
    _seed()
    out = StringIO()
    call_command("search_messages", "woda kapie z jednostki wewnętrznej", stdout=out)
    body = json.loads(out.getvalue())
    assert set(body) == {"query", "source", "results"}
    assert body["query"] == "woda kapie z jednostki wewnętrznej" and body["source"] == "vector"
    assert set(body["results"][0]) == {"id", "score", "text", "district", "created"}


def test_hotspots_geojson_and_dashboard_for_staff(client, administrator):
    from datetime import timedelta

    from django.utils import timezone

    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    Prediction.objects.create(district=district("wilanow"), service_type="installation", week_start=monday,
                              forecast_jobs=20, forecast_low=17, forecast_high=23, job_hours=80, capacity_hours=90,
                              predicted_demand=0.92, confidence=0.88, model_name="test", is_hotspot=True)
    client.force_login(administrator)
    geo = client.get("/api/prophecy/hotspots.geojson").json()
    assert geo["type"] == "FeatureCollection"
    props = geo["features"][0]["properties"]
    assert props["district"] == "Wilanów" and props["predictedDemand"] == 0.92
    assert props["serviceTypes"] == ["installation"] and geo["features"][0]["geometry"]["type"]
    page = client.get(reverse("prophecy:dashboard"))
    assert page.status_code == 200 and "<svg" in page.content.decode() and "Wilanów" in page.content.decode()


def test_a_dispatcher_and_a_manager_may_use_the_search_and_the_dashboard(client, dispatcher, manager):
    _seed()
    for user in (dispatcher, manager):
        client.force_login(user)
        assert client.get(reverse("prophecy:search"), {"q": "kapie"}).status_code == 200
        assert client.get(reverse("prophecy:dashboard")).status_code == 200


def test_a_district_page_charts_two_years_of_weeks_with_the_forecast_band_and_the_backtest(client, manager):
    from datetime import timedelta

    from django.utils import timezone

    from prophecy.models import BacktestResult

    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    for weeks_ago in (3, 40, 90):
        ServiceJobFactory(district=district("wola"), service_type="repair",
                          scheduled_start=timezone.now() - timedelta(weeks=weeks_ago))
    Prediction.objects.create(district=district("wola"), service_type="repair", week_start=monday,
                              forecast_jobs=6, forecast_low=4, forecast_high=8, job_hours=9, capacity_hours=5,
                              predicted_demand=1.0, confidence=0.8, model_name="test")
    BacktestResult.objects.create(district=district("wola"), service_type="repair", model_name="test", folds=3,
                                  horizon=4, mase=0.71, seasonal_naive_mase=1.02)
    client.force_login(manager)
    page = client.get(reverse("prophecy:district", args=["wola"]))
    html = page.content.decode()
    assert page.status_code == 200 and html.count("<svg") >= 1 and "polygon" in html
    assert "0.71" in html or "0,71" in html
    assert "HVAC CRM" in html and "Django administration" not in html


def test_an_unknown_district_page_says_so(client, manager):
    client.force_login(manager)
    page = client.get(reverse("prophecy:district", args=["atlantis"]))
    assert page.status_code == 404 and "notice-unknown_district" in page.content.decode()


def test_the_dashboard_lists_the_weeks_alerts_with_their_chart_and_jobs_and_the_map_gets_the_weeks_demand(
        client, manager):
    from datetime import timedelta

    from django.utils import timezone

    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    for service, hours, hot in (("repair", 30, True), ("maintenance", 6, False)):
        Prediction.objects.create(district=district("wawer"), service_type=service, week_start=monday,
                                  forecast_jobs=20, forecast_low=18, forecast_high=22, job_hours=hours,
                                  capacity_hours=40, predicted_demand=hours / 40, confidence=0.9, model_name="test",
                                  is_hotspot=hot, alerted_at=timezone.now() if hot else None)
    client.force_login(manager)
    html = client.get(reverse("prophecy:dashboard")).content.decode()
    assert 'href="/prophecy/district/wawer/" data-alert-chart' in html
    assert f"district__id__exact={district('wawer').pk}&amp;service_type__exact=repair" in html
    assert "prophecy/dashboard.js" in html and "data-live-status" in html
    props = client.get("/api/prophecy/hotspots.geojson").json()["features"][0]["properties"]
    assert props["weekDemand"] == 0.9 and props["hotspot"] is True and props["url"] == "/prophecy/district/wawer/"
    jobs = client.get(f"/admin/hvaccrm/servicejob/?district__id__exact={district('wawer').pk}&service_type__exact=repair")
    assert jobs.status_code == 200
