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


def _problem_fill(page, day, text: str) -> None:
    """The problem and the caller's window, 08:00-12:00 on `day`."""
    page.select_option("#id_service_type", "repair")
    page.fill("#id_description", text)
    page.fill("#id_day", day.isoformat())
    page.select_option("#id_from_hour", "8")
    page.select_option("#id_to_hour", "12")


def _map_click(page, lat: float, lng: float) -> None:
    """A real mouse click on the booking map where (lat, lng) is drawn."""
    page.locator("#booking-map").scroll_into_view_if_needed()
    x, y = page.evaluate(
        """([lat, lng]) => { const p = window.bookingMap.latLngToContainerPoint([lat, lng]);
             const r = document.getElementById("booking-map").getBoundingClientRect();
             return [r.left + p.x, r.top + p.y]; }""", [lat, lng])
    page.mouse.click(x, y)


def _marker_drag(page, lat: float, lng: float) -> None:
    """Drag the booking map's marker with the mouse so that its point lands on (lat, lng)."""
    icon = page.locator("#booking-map .leaflet-marker-icon").bounding_box()
    dx, dy = page.evaluate(
        """([lat, lng]) => { const map = window.bookingMap; let at = null;
             map.eachLayer((l) => { if (l.getLatLng && l.dragging) { at = l.getLatLng(); } });
             const a = map.latLngToContainerPoint(at), b = map.latLngToContainerPoint([lat, lng]);
             return [b.x - a.x, b.y - a.y]; }""", [lat, lng])
    x, y = icon["x"] + icon["width"] / 2, icon["y"] + icon["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx / 2, y + dy / 2, steps=5)
    page.mouse.move(x + dx, y + dy, steps=5)
    page.mouse.up()


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
    _problem_fill(page, day, "Klimatyzacja w salonie nie chłodzi, cieknie woda")
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


@pytest.fixture
def mail_dir(tmp_path, monkeypatch):
    """The live server (a subprocess) keeps its e-mails as files here; requested before it starts."""
    monkeypatch.setenv("EMAIL_URL", "filemail://")
    monkeypatch.setenv("EMAIL_FILE_PATH", str(tmp_path / "mail"))
    return tmp_path / "mail"


def test_a_phone_client_without_a_portal_account_gets_the_confirmation_email_with_the_date_and_window(
        mail_dir, live_asgi_url, browser_page, dispatcher):
    TechnicianFactory(home_district=district("mokotow"), skills=["split_ac", "fgas_certified"],
                      shift_start=time(8), shift_end=time(18))
    day = timezone.localdate() + timedelta(days=2)
    while day.weekday() >= 5 or day_is_closed(day):
        day += timedelta(days=1)
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(f"{live_asgi_url}/admin/login/?next=/admin/office/new-job/")
    page.fill("#id_username", dispatcher.username)
    page.fill("#id_password", "Correct-Horse-42")
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_selector("#id_client_name")
    page.fill("#id_client_name", "Celina Nowak")
    page.fill("#id_phone", "+48600100200")
    page.fill("#id_email", "celina@example.com")
    page.fill("#id_street", "Puławska 100")
    # The point is placed on the map: a click outside Warsaw first (refused on the page), then a drag.
    page.wait_for_selector("#booking-map[data-ready]")
    _map_click(page, 52.23, 20.80)
    page.wait_for_selector("#booking-map[data-district=outside]")
    said = page.text_content("#booking-district")
    assert "Warsaw" in said or "Warszaw" in said  # the page's language: English or Polish
    _marker_drag(page, 52.19, 21.02)  # then the marker is dragged into Mokotów
    page.wait_for_selector("#booking-map[data-district=mokotow]")
    assert "Mokotów" in page.text_content("#booking-district")
    assert abs(float(page.input_value("#id_latitude")) - 52.19) < 0.002
    assert abs(float(page.input_value("#id_longitude")) - 21.02) < 0.002
    _problem_fill(page, day, "Klimatyzacja nie chłodzi")
    page.click('button[value="book"]')
    page.wait_for_selector("#booked tr[data-proposal]")
    page.click("#booked tr[data-proposal] button")
    job = ServiceJob.objects.get(client__name="Celina Nowak")
    page.wait_for_url(f"**/admin/hvaccrm/servicejob/{job.pk}/change/**")
    job.refresh_from_db()
    a, b = timezone.localtime(job.scheduled_start), timezone.localtime(job.scheduled_end)
    for _ in range(50):  # the e-mail comes through the outbox after commit
        mails = [p.read_text() for p in mail_dir.glob("*")] if mail_dir.exists() else []
        if mails:
            break
        page.wait_for_timeout(200)
    assert len(mails) == 1 and "To: celina@example.com" in mails[0]
    assert f"{a:%d.%m.%Y}, {a:%H:%M}–{b:%H:%M}" in mails[0]
