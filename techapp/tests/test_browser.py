"""The technician app in Debian's headless chromium at a phone's size: offline work replayed once
when the signal returns, a stale step refused in plain words, an emergency taking the screen."""

from __future__ import annotations

import pytest
from django.utils import timezone

from communications.models import Message
from conftest import browser_login
from hvaccrm.models import ServiceJob
from hvaccrm.services import job_transition
from mapping.tests.test_browser import _in_thread
from techapp.models import DeviceAction
from techapp.tests.helpers import emergency_alert, job_for

pytestmark = [pytest.mark.browser]


# The server applies a replay with its integration work done eagerly (re-planning the day included):
# on a shared, loaded machine that takes seconds, so conditions are awaited generously.
WAIT_S = 90


def _until(check, page, seconds: float = WAIT_S) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(page.inner_text("body")[:2000])
        page.wait_for_timeout(200)


def _login(page, base_url: str, username: str, next_url: str) -> None:
    page.set_default_timeout(WAIT_S * 1000)
    browser_login(page, base_url, username)
    page.wait_for_load_state()
    page.goto(base_url + next_url)


def test_offline_a_completion_and_a_message_wait_then_each_is_saved_once(live_asgi_url, browser_page,
                                                                        technician_mokotow):
    job = _in_thread(job_for, technician=technician_mokotow, status="on_site")
    page = browser_page
    _login(page, live_asgi_url, technician_mokotow.user.username, f"/tech/jobs/{job.pk}/")
    page.wait_for_selector("#completion-form")
    page.context.set_offline(True)
    page.fill("#id_work_done", "Wymiana sprężarki, test szczelności")
    page.select_option("#id_leak_check", "no_leak")
    page.fill("#id_refrigerant_added_kg", "0.4")
    page.click("#step-complete")
    page.fill("#message-body", "Skończone, klient zadowolony")
    page.click("#message-send")
    banner = page.locator("#tech-queue")
    page.wait_for_selector("#tech-queue[data-waiting='2']", state="attached")
    assert "2" in banner.inner_text() and banner.is_visible()
    assert ServiceJob.objects.get(pk=job.pk).status == "on_site"
    page.context.set_offline(False)
    # Each action commits on its own, in order: wait for both answers, not for the first one's effect.
    answered = DeviceAction.objects.filter(technician=technician_mokotow, applied_at__isnull=False)
    _until(lambda: answered.count() == 2, page)
    page.wait_for_selector("#tech-queue[data-waiting='0']", state="attached")
    assert ServiceJob.objects.get(pk=job.pk).status == "completed"
    assert ServiceJob.objects.get(pk=job.pk).report["refrigerant_added_kg"] == "0.40"
    sent = Message.objects.filter(body="Skończone, klient zadowolony")
    assert sent.count() == 1 and sent.get().conversation.job_id == job.pk  # the office inbox lists it
    assert DeviceAction.objects.filter(technician=technician_mokotow, ok=True).count() == 2


def test_a_step_queued_offline_after_the_office_cancelled_the_job_is_refused_visibly(live_asgi_url, browser_page,
                                                                                     technician_mokotow):
    job = _in_thread(job_for, technician=technician_mokotow)
    page = browser_page
    _login(page, live_asgi_url, technician_mokotow.user.username, f"/tech/jobs/{job.pk}/")
    page.wait_for_selector("#step-en-route")
    page.context.set_offline(True)
    page.click("#step-en-route")
    page.wait_for_selector("#tech-queue[data-waiting='1']", state="attached")
    _in_thread(job_transition, job=ServiceJob.objects.get(pk=job.pk), to_status="cancelled", reason="client called")
    page.context.set_offline(False)
    refused = page.locator("#tech-refused li[data-code=job_cancelled]")
    refused.wait_for()
    assert f"#{job.pk}" in refused.inner_text() and "anulowało" in refused.inner_text()
    assert ServiceJob.objects.get(pk=job.pk).status == "cancelled"


def test_an_open_emergency_takes_the_screen_and_accept_takes_the_job(live_asgi_url, browser_page, client_anna):
    from hvaccrm.tests.factories import TechnicianFactory

    tech = TechnicianFactory()
    alert = _in_thread(emergency_alert, client=client_anna)
    page = browser_page
    _login(page, live_asgi_url, tech.user.username, "/tech/")
    page.wait_for_selector("#tech-alert:not([hidden])")
    assert "gaz" in page.inner_text("#tech-alert-text")
    page.click("#tech-alert-accept")
    page.wait_for_selector("#tech-alert-state[data-state=accepted]")
    alert.refresh_from_db()
    job = ServiceJob.objects.get(pk=alert.job_id)
    assert job.technician_id == tech.pk and job.status == "en_route" and job.eta is not None
    # The client, on the portal's page of the visit the accept made: on the way, with the ETA.
    portal = _second_page(page)
    _login(portal, live_asgi_url, client_anna.users.get().username, f"/portal/visits/{job.pk}/")
    portal.wait_for_selector("[data-field=status_label]")
    assert portal.inner_text("[data-field=status_label]") == job.get_status_display()  # "w drodze"
    assert portal.inner_text("[data-field=eta_label]") == timezone.localtime(job.eta).strftime("%H:%M")


def test_when_all_of_a_step_decline_the_next_steps_technician_page_gets_the_alert(live_asgi_url, browser_page,
                                                                                 client_anna):
    from hvaccrm.tests.factories import TechnicianFactory, district

    first = TechnicianFactory(home_district=district("mokotow"))
    neighbour = TechnicianFactory(home_district=district("mokotow").neighbours.order_by("slug").first())
    page, theirs = browser_page, _second_page(browser_page)
    _login(theirs, live_asgi_url, neighbour.user.username, "/tech/")
    theirs.wait_for_selector("html[data-live-state=live]", state="attached")
    alert = _in_thread(emergency_alert, client=client_anna)
    assert theirs.locator("#tech-alert").is_hidden()  # the district's step first
    _login(page, live_asgi_url, first.user.username, "/tech/")
    page.wait_for_selector("#tech-alert:not([hidden])")
    page.fill("#tech-alert-reason", "Jestem na innym zleceniu")
    page.press("#tech-alert-reason", "Enter")
    page.wait_for_selector("#tech-alert-state[data-state=declined]")
    theirs.wait_for_selector(f"#tech-alert[data-alert='{alert.pk}']:not([hidden])")  # live, no reload
    assert "gaz" in theirs.inner_text("#tech-alert-text")
    alert.refresh_from_db()
    assert alert.step == 1 and alert.state == "escalated"


def _second_page(page):
    """Another person's phone: a second context of the same browser (its own cookies)."""
    context = page.context.browser.new_context(locale="pl-PL", viewport={"width": 390, "height": 844})
    return context.new_page()
