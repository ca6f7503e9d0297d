"""The day board in a real headless browser: a dispatcher drags a job onto a technician at a time,
and a second dispatcher's open board moves live."""

from __future__ import annotations

import copy
import os
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from hvaccrm.closed_days import day_is_closed
from hvaccrm.models import ServiceJob
from hvaccrm.tests.factories import ServiceJobFactory, TechnicianFactory, UserFactory, district

pytestmark = [pytest.mark.browser]


@pytest.fixture
def same_channel_prefix_as_the_server(settings):
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"]["CONFIG"]["prefix"] = os.environ["CHANNEL_PREFIX"]
    settings.CHANNEL_LAYERS = layers


def _login(page, base_url: str, username: str, next_url: str) -> None:
    page.goto(f"{base_url}/admin/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", "Correct-Horse-42")
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(f"**{next_url.split('?')[0]}**")


def test_a_job_dragged_onto_a_technician_is_placed_and_a_second_dispatchers_board_moves_live(
        live_asgi_url, browser_page, dispatcher, same_channel_prefix_as_the_server):
    day = timezone.localdate() + timedelta(days=2)
    while day.weekday() >= 5 or day_is_closed(day):
        day += timedelta(days=1)
    TechnicianFactory(home_district=district("wola"), shift_start=time(8), shift_end=time(18))
    target = TechnicianFactory(home_district=district("mokotow"), shift_start=time(8), shift_end=time(18))
    start = timezone.make_aware(datetime.combine(day, time(8)))
    job = ServiceJobFactory(requested_start=start, requested_end=start + timedelta(hours=8), estimated_duration_min=60)
    second = UserFactory(username="dawid", role="dispatcher", is_staff=True)
    url = f"/mapping/board/?day={day.isoformat()}"

    other = browser_page.context.browser.new_context(locale="pl-PL", viewport={"width": 1400, "height": 900}).new_page()
    other.set_default_timeout(15000)
    _login(other, live_asgi_url, second.username, url)
    other.wait_for_selector('table.board[data-live="1"]')
    assert other.locator(f'table.tray tr[data-job="{job.pk}"]').count() == 1

    page = browser_page
    page.set_viewport_size({"width": 1400, "height": 900})
    _login(page, live_asgi_url, dispatcher.username, url)
    lane = page.locator(f'tr[data-technician="{target.pk}"] td.lane')
    box = lane.bounding_box()
    # 10:00 on the 06:00-22:00 axis is a quarter of the lane's width.
    page.drag_and_drop(f'table.tray tr[data-job="{job.pk}"]', f'tr[data-technician="{target.pk}"] td.lane',
                       target_position={"x": box["width"] * 0.25, "y": box["height"] / 2})
    page.wait_for_selector(".board-message:not([hidden])")
    job.refresh_from_db()
    assert job.technician_id == target.pk and job.slot_held
    assert timezone.localtime(job.scheduled_start).strftime("%H:%M") == "10:00"
    # The second dispatcher's board re-draws from the push: the job leaves the tray.
    other.wait_for_selector(f'table.tray tr[data-job="{job.pk}"]', state="detached")
    assert ServiceJob.objects.filter(technician=target, slot_held=True).count() == 1


def _route_updated(day) -> None:
    from hvaccrm.realtime import events
    from hvaccrm.realtime import groups as g

    event = events.make_event("route.updated", row_id=1, data={"day": day.isoformat(), "technician": None,
                                                               "version": 2, "reason": "nightly"})
    events.send_now([g.dispatch_group()], event)


def test_the_board_ignores_another_days_route_push_and_reloads_for_its_own(
        live_asgi_url, browser_page, dispatcher, same_channel_prefix_as_the_server):
    # The nightly plan of the next days pushes a route.updated per route: an open board of today
    # re-fetched itself for each (issue 21's load: 50 boards, ~15 reloads each in a minute).
    day = timezone.localdate()
    TechnicianFactory(home_district=district("wola"), shift_start=time(8), shift_end=time(18))
    page = browser_page
    _login(page, live_asgi_url, dispatcher.username, f"/mapping/board/?day={day.isoformat()}")
    page.wait_for_selector('table.board[data-live="1"]')
    _route_updated(day + timedelta(days=1))
    page.wait_for_timeout(1500)  # board.js reloads 0.5 s after a push it takes
    assert page.locator("table.board[data-refreshed]").count() == 0
    _route_updated(day)
    page.wait_for_selector("table.board[data-refreshed]")
