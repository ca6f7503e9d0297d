"""A dispatcher reassigns a job in the admin while the day board is open in another browser: the
client is told (the notifications' outbox row, handled), both technicians' routes are re-planned,
and the open board redraws its lanes live, without a reload (Debian's chromium, a real ASGI server)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.utils import timezone

from hvaccrm.closed_days import day_is_closed
from hvaccrm.models import IntegrationLog, ServiceJob
from hvaccrm.services import job_assign, job_create
from hvaccrm.tests.factories import TechnicianFactory
from mapping.models import RouteStop
from mapping.services import day_plan
from mapping.tests.test_browser import _admin_login, _in_thread

pytestmark = [pytest.mark.browser]


def _next_working_day():
    day = timezone.localdate() + timedelta(days=1)
    while day.weekday() >= 5 or day_is_closed(day):
        day += timedelta(days=1)
    return day


def _route_technician(job: ServiceJob) -> int | None:
    stop = RouteStop.objects.filter(job=job).select_related("route").order_by("-route__plan__version").first()
    return stop.route.technician_id if stop else None


def _planned_day_with_a_job_of(*, technician, site, dispatcher, day) -> ServiceJob:
    start = timezone.make_aware(datetime.combine(day, time(10, 0)))
    job = job_create(site=site, service_type="repair", description="Nie chłodzi", requested_start=start,
                     requested_end=start + timedelta(hours=2))
    job = job_assign(job=job, technician=technician, scheduled_start=start, scheduled_end=start + timedelta(hours=2),
                     actor=dispatcher, reason="first call")
    day_plan(day=day, reason="browser test")
    return job


def test_a_job_reassigned_in_the_admin_tells_the_client_replans_both_routes_and_updates_an_open_board_live(
        live_asgi_url, browser_page, dispatcher, client_anna):
    dispatcher.user_permissions.add(*Permission.objects.filter(content_type__app_label__in=("hvaccrm", "mapping")))
    first, second = TechnicianFactory(), TechnicianFactory()
    day = _next_working_day()
    job = _in_thread(_planned_day_with_a_job_of, technician=first, site=client_anna.sites.get(),
                     dispatcher=dispatcher, day=day)
    assert _route_technician(job) == first.pk

    # The board, open in a second browser context (another dispatcher's screen).
    board = browser_page.context.browser.new_context(locale="pl-PL", viewport={"width": 1280, "height": 900}).new_page()
    board.set_default_timeout(20000)
    _admin_login(board, live_asgi_url, dispatcher.username, f"/mapping/board/?day={day.isoformat()}")
    board.wait_for_selector('table.board[data-live="1"]')
    board.wait_for_selector(f'tr[data-technician="{first.pk}"] a.stop:has-text("#{job.pk}")')
    board.evaluate("window.__notReloaded = true")
    last_log = IntegrationLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    # The reassign action in the admin, with its reason page.
    admin = browser_page
    _admin_login(admin, live_asgi_url, dispatcher.username, "/admin/hvaccrm/servicejob/")
    admin.wait_for_url("**/admin/hvaccrm/servicejob/**")
    admin.check(f'input[name="_selected_action"][value="{job.pk}"]')
    admin.select_option('select[name="action"]', "reassign_jobs")
    admin.click('button[name="index"]')
    admin.select_option("#id_technician", str(second.pk))
    admin.fill("#id_reason", "first technician is ill")
    admin.click('input[name="apply"]')
    admin.wait_for_selector(".messagelist .success")

    # The open board moves the stop to the second technician's lane, without a reload.
    board.wait_for_selector(f'tr[data-technician="{second.pk}"] a.stop:has-text("#{job.pk}")')
    assert board.locator(f'tr[data-technician="{first.pk}"] a.stop:has-text("#{job.pk}")').count() == 0
    assert board.evaluate("window.__notReloaded") is True

    job.refresh_from_db()
    assert job.technician_id == second.pk and job.pinned_by_id == dispatcher.pk
    told = IntegrationLog.objects.filter(pk__gt=last_log, target="notifications", kind="job.updated",
                                         object_id=str(job.pk))
    assert [(row.payload["previous_technician"], row.state) for row in told] == [(first.pk, "succeeded")]
    replanned = IntegrationLog.objects.get(pk__gt=last_log, target="map", kind="job.updated", object_id=str(job.pk))
    assert replanned.state == "succeeded"
    assert _route_technician(job) == second.pk  # both routes re-planned: the stop left the first one
    assert not RouteStop.objects.filter(job=job, route__technician=first).exists()
    history = apps.get_model("hvaccrm", "ServiceJobEvent").objects.filter(pgh_obj_id=job.pk)
    assert history.filter(pgh_context__metadata__reason="first technician is ill").exists()
