"""The dispatch map in a real headless browser: districts drawn, a technician's marker moving live."""

from __future__ import annotations

import copy
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.utils import timezone

from hvaccrm.tests.factories import ServiceJobFactory, TechnicianFactory
from mapping.services import day_plan, location_ping_ingest

pytestmark = [pytest.mark.browser]


def _in_thread(fn, **kwargs):
    """Playwright's sync API keeps an event loop in this thread; the push (async_to_sync) needs one
    without, as the real socket handler has."""
    from django.db import connection

    def run():
        try:
            return fn(**kwargs)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=30)


def _admin_login(page, base_url: str, username: str, next_url: str) -> None:
    page.goto(f"{base_url}/admin/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", "Correct-Horse-42")
    page.click("input[type=submit], button[type=submit]")


@pytest.fixture
def same_channel_prefix_as_the_server(settings):
    """The live server reads CHANNEL_PREFIX from the environment the root conftest sets, but this
    process loaded its settings before that; send on the server's prefix (channels resets its
    layers when the setting changes)."""
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"]["CONFIG"]["prefix"] = os.environ["CHANNEL_PREFIX"]
    settings.CHANNEL_LAYERS = layers


def test_the_dispatch_map_draws_districts_and_a_marker_moves_live_after_a_ping(
        live_asgi_url, browser_page, dispatcher, same_channel_prefix_as_the_server):
    tech = TechnicianFactory()
    now = timezone.now()
    if timezone.localtime(now).hour < 21:
        # Today's plan, so the map also draws a route with its ETA label.
        job = ServiceJobFactory(requested_start=now + timedelta(hours=1), requested_end=now + timedelta(hours=2))
        _in_thread(day_plan, day=timezone.localdate(), reason="browser test")
    else:
        job = None
    page = browser_page
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) )
    _admin_login(page, live_asgi_url, dispatcher.username, "/mapping/dispatch/")
    page.wait_for_url("**/mapping/dispatch/**")
    page.wait_for_selector('#dispatch-map[data-districts-drawn="18"]')
    assert page.locator("#dispatch-map path.leaflet-interactive").count() >= 18
    page.wait_for_selector('#dispatch-map[data-live="1"]')
    if job is not None:
        label = page.wait_for_selector(".eta-label")
        assert label.inner_text().startswith("1 · ")
        assert page.locator("#dispatch-map path.leaflet-interactive").count() >= 19  # + the route line

    first = _in_thread(location_ping_ingest, technician=tech, latitude=52.2000, longitude=21.0000, accuracy=5,
                         device_time=now - timedelta(seconds=60), seq=1)
    assert first["stored"], first
    marker = page.wait_for_selector(f'.tech-marker[data-technician="{tech.pk}"]')
    assert marker.get_attribute("data-lat") == "52.2"
    first_box = marker.bounding_box()

    page.wait_for_timeout(1100)  # the next batch of positions (locations.updated) leaves after an interval
    _in_thread(location_ping_ingest, technician=tech, latitude=52.2050, longitude=21.0100, accuracy=5,
                         device_time=now - timedelta(seconds=1), seq=2)
    page.wait_for_selector(f'.tech-marker[data-technician="{tech.pk}"][data-lat="52.205"]')
    moved = page.locator(f'.tech-marker[data-technician="{tech.pk}"]').bounding_box()
    assert (moved["x"], moved["y"]) != (first_box["x"], first_box["y"])
    assert not [e for e in errors if "Content Security Policy" in e], errors
