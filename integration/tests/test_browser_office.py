"""A phone booking end to end in a real headless browser: the office fills the page, sees the
triage's suggestion, books, takes a proposed slot; the client is told the real date and time."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import timezone

from communications.models import Notification
from hvaccrm.closed_days import day_is_closed
from hvaccrm.models import ServiceJob
from hvaccrm.models.jobs import JobStatus
from hvaccrm.tests.factories import TechnicianFactory, district

pytestmark = [pytest.mark.browser]


def test_the_office_books_a_phone_call_and_the_client_is_told_the_date_and_time(
        live_asgi_url, browser_page, dispatcher, client_anna, anna_user):
    TechnicianFactory(home_district=district("mokotow"), shift_start=time(8), shift_end=time(18))
    day = timezone.localdate() + timedelta(days=2)
    while day.weekday() >= 5 or day_is_closed(day):
        day += timedelta(days=1)
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_asgi_url}/admin/login/?next=/admin/")
    page.fill("#id_username", dispatcher.username)
    page.fill("#id_password", "Correct-Horse-42")
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_selector("#office-today")
    page.click('#office-pages a[href="/admin/office/new-job/"]')
    page.select_option("#id_client", str(client_anna.pk))
    page.select_option("#id_site", str(client_anna.sites.get().pk))
    page.select_option("#id_service_type", "repair")
    page.fill("#id_description", "Klimatyzacja w salonie nie chłodzi, cieknie woda")
    page.fill("#id_day", day.isoformat())
    page.select_option("#id_from_hour", "8")
    page.select_option("#id_to_hour", "12")
    page.click('button[value="triage"]')
    page.wait_for_selector("#triage")
    page.click('button[value="book"]')
    page.wait_for_selector("#booked tr[data-proposal]")
    job = ServiceJob.objects.get(client=client_anna)
    assert job.source == "phone"  # the plan may already have given it a technician (its day is re-planned)
    page.click("#booked tr[data-proposal] button")
    page.wait_for_url(f"**/admin/hvaccrm/servicejob/{job.pk}/change/**")
    job.refresh_from_db()
    assert job.status == JobStatus.SCHEDULED
    when = timezone.localtime(job.scheduled_start)
    for _ in range(50):  # the notification comes through the outbox after commit
        told = Notification.objects.filter(recipient=anna_user, kind__in=["job.confirmed", "job.time_set"],
                                           body__contains=timezone.localtime(job.scheduled_start).strftime("%H:%M")).first()
        if told:
            break
        page.wait_for_timeout(200)
    assert told and when.strftime("%d.%m.%Y %H:%M") in told.body and "?" not in told.body
