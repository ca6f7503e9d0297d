"""The managers' forecast dashboard in a real headless browser: a hotspot alert recorded by the
forecast appears on it live (no reload), with its links to the district's chart and its jobs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from conftest import in_thread
from hvaccrm.models import District
from hvaccrm.tests.factories import district
from prophecy.models import Prediction
from prophecy.services.forecast import _hotspot_alerts_record

pytestmark = [pytest.mark.browser]


def _alert_record(*, prediction: Prediction) -> None:
    with transaction.atomic():
        _hotspot_alerts_record(alerts={(prediction.district.slug, prediction.week_start): [prediction]},
                               districts={d.slug: d for d in District.objects.all()})


def test_a_hotspot_alert_appears_live_on_the_managers_dashboard_with_its_links(
        live_asgi_url, browser_page, manager, channel_prefix_of_the_live_server):
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday()) + timedelta(weeks=1)
    pred = Prediction.objects.create(
        district=district("wawer"), service_type="repair", week_start=monday, forecast_jobs=24, forecast_low=21,
        forecast_high=27, job_hours=36, capacity_hours=40, predicted_demand=0.9, confidence=0.86, model_name="test",
        is_hotspot=True, alerted_at=None)
    page = browser_page
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text))
    page.goto(f"{live_asgi_url}/admin/login/?next=/prophecy/dashboard/")
    page.fill("#id_username", manager.username)
    page.fill("#id_password", "Correct-Horse-42")
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url("**/prophecy/dashboard/**")
    page.wait_for_selector("html[data-live-state=live]")
    assert page.locator("#prophecy-alerts [data-alert]").count() == 0

    in_thread(_alert_record, prediction=pred)

    item = page.wait_for_selector(f'#prophecy-alerts [data-alert="{pred.pk}"][data-alert-live]')
    assert "Wawer" in item.inner_text() and "0.90" in item.inner_text()
    chart = page.locator(f'#prophecy-alerts [data-alert="{pred.pk}"] a[data-alert-chart]')
    assert chart.get_attribute("href") == "/prophecy/district/wawer/"
    jobs = page.locator(f'#prophecy-alerts [data-alert="{pred.pk}"] a[data-alert-jobs]').get_attribute("href")
    assert f"district__id__exact={pred.district_id}" in jobs and "service_type__exact=repair" in jobs
    chart.click()
    page.wait_for_url("**/prophecy/district/wawer/")
    assert not [e for e in errors if "Content Security Policy" in e], errors
