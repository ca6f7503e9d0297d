"""The office's phone booking: client and site found or created, triage, slots, booking; bad input
refused with a clear message and nothing saved."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.core import mail
from django.test import Client as Http
from django.urls import reverse
from django.utils import timezone, translation

from communications.models import Notification
from hvaccrm.closed_days import day_is_closed
from hvaccrm.models import Client, IntegrationLog, ServiceJob, Site
from hvaccrm.models.jobs import JobStatus
from hvaccrm.tests.factories import EquipmentFactory, TechnicianFactory, district

pytestmark = pytest.mark.django_db
URL = "/admin/office/new-job/"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _day():
    day = timezone.localdate() + timedelta(days=2)
    while day.weekday() >= 5 or day_is_closed(day):
        day += timedelta(days=1)
    return day


def _http(user):
    http = Http()
    http.force_login(user)
    return http


def _form(**extra):
    return {"client_name": "Celina Nowak", "phone": "+48600100200", "email": "celina@example.com",
            "street": "Puławska 100", "latitude": "52.19", "longitude": "21.02", "service_type": "repair",
            "description": "Klimatyzacja nie chłodzi", "day": _day().isoformat(), "from_hour": "8", "to_hour": "12",
            "step": "book", **extra}


def test_a_phone_booking_creates_client_site_and_job_proposes_slots_and_books_one(dispatcher):
    TechnicianFactory(home_district=district("mokotow"), skills=["split_ac", "fgas_certified"],
                      shift_start=time(8), shift_end=time(16))
    http = _http(dispatcher)
    page = http.post(URL, _form())
    assert page.status_code == 200, page.content.decode()[:2000]
    job = ServiceJob.objects.get()
    assert job.source == "phone" and job.client.name == "Celina Nowak" and job.district.slug == "mokotow"
    assert timezone.localtime(job.requested_start).hour == 8 and job.urgency in ("normal", "high", "emergency")
    proposals = page.context["proposals"]
    assert proposals and 'id="booked"' in page.content.decode()
    done = http.post(reverse("integration:take_slot", args=[proposals[0].pk]))
    assert done.status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.SCHEDULED and job.scheduled_start == proposals[0].start


def test_a_phone_client_without_a_portal_user_gets_one_email_with_the_date_and_window_in_their_language(
        dispatcher, django_capture_on_commit_callbacks):
    from hvaccrm.outbox_run import outbox_process

    TechnicianFactory(home_district=district("mokotow"), skills=["split_ac", "fgas_certified"],
                      shift_start=time(8), shift_end=time(16))
    http = _http(dispatcher)
    with django_capture_on_commit_callbacks(execute=True):
        proposal = http.post(URL, _form()).context["proposals"][0]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        http.post(reverse("integration:take_slot", args=[proposal.pk]))
    a, b = timezone.localtime(proposal.start), timezone.localtime(proposal.end)
    [email] = mail.outbox
    assert email.to == ["celina@example.com"] and email.subject.startswith("Twoja wizyta")  # Polish, her language
    assert f"{a:%d.%m.%Y}, {a:%H:%M}–{b:%H:%M}" in email.body and "?" not in email.body
    row = IntegrationLog.objects.get(kind="job.confirmation_email")
    IntegrationLog.objects.filter(pk=row.pk).update(state="failed")  # the row runs again (a sweep, a repair)
    outbox_process(log_id=row.pk)
    assert len(mail.outbox) == 1


def test_a_phone_client_with_a_portal_user_is_notified_not_emailed(dispatcher, client_anna, anna_user,
                                                                   django_capture_on_commit_callbacks):
    TechnicianFactory(home_district=district("mokotow"), skills=["split_ac", "fgas_certified"],
                      shift_start=time(8), shift_end=time(16))
    http = _http(dispatcher)
    page = http.post(URL, _form(client=client_anna.pk, site=client_anna.sites.get().pk, client_name="", phone=""))
    with django_capture_on_commit_callbacks(execute=True):
        http.post(reverse("integration:take_slot", args=[page.context["proposals"][0].pk]))
    assert not IntegrationLog.objects.filter(kind="job.confirmation_email").exists()
    assert not [m for m in mail.outbox if m.subject.startswith("Twoja wizyta nr")]  # her notification only


def test_triage_suggests_the_urgency_before_booking(dispatcher):
    page = _http(dispatcher).post(URL, _form(step="triage", description="Czuję zapach gazu przy kotle"))
    assert page.status_code == 200 and page.context["suggestion"]["urgency"] == "emergency"
    assert not ServiceJob.objects.exists()


def _christmas() -> str:
    today = timezone.localdate()
    return date(today.year if today < date(today.year, 12, 25) else today.year + 1, 12, 25).isoformat()


@pytest.mark.parametrize("extra, field", [
    ({"day": (timezone.localdate() - timedelta(days=1)).isoformat()}, "day"),  # a window in the past
    ({"day": _christmas()}, "day"),  # a public holiday
    ({"latitude": "50.06", "longitude": "19.94"}, "latitude"),  # Kraków: outside Warsaw
])
def test_a_past_window_a_holiday_or_a_point_outside_warsaw_is_refused_and_nothing_is_saved(dispatcher, extra, field):
    page = _http(dispatcher).post(URL, _form(**extra))
    assert page.status_code == 400 and page.context["form"].errors[field]
    assert not ServiceJob.objects.exists() and not Client.objects.filter(name="Celina Nowak").exists()


def test_another_clients_unit_is_refused(dispatcher, client_anna, client_bartek):
    bartek_unit = EquipmentFactory(site=client_bartek.sites.first())
    page = _http(dispatcher).post(URL, _form(client=client_anna.pk, site=client_anna.sites.first().pk,
                                             equipment=bartek_unit.pk, client_name="", phone=""))
    assert page.status_code == 400 and page.context["form"].errors["equipment"]
    assert not ServiceJob.objects.exists() and Site.objects.filter(client=client_anna).count() == 1


def test_only_the_office_opens_the_page(anna_user, dispatcher):
    assert _http(dispatcher).get(URL).status_code == 200
    assert _http(anna_user).get(URL).status_code in (302, 403)
    assert Notification.objects.count() == 0


LOCATE = "/admin/office/new-job/locate/"


def test_the_map_pickers_point_gives_its_district_and_a_point_outside_warsaw_a_clear_message(dispatcher):
    http = _http(dispatcher)
    inside = http.get(LOCATE, {"latitude": "52.19", "longitude": "21.02"}).json()
    assert inside["inside"] and inside["district"] == "mokotow" and "Mokotów" in inside["message"]
    outside = http.get(LOCATE, {"latitude": "50.06", "longitude": "19.94"}).json()  # Kraków
    said = outside["message"]
    assert outside["inside"] is False and ("outside Warsaw" in said or "poza Warszawą" in said)  # page's language
    assert http.get(LOCATE).status_code == 400


def test_the_map_picker_finds_the_address_when_a_geocoder_is_configured(dispatcher, monkeypatch):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from mapping import conf

    class Nominatim(BaseHTTPRequestHandler):
        def do_GET(self):
            body = [{"lat": "52.19", "lon": "21.02", "display_name": "Puławska 100"}] if "Pu" in self.path else []
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps(body).encode())

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Nominatim)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(conf, "GEOCODER_URL", f"http://127.0.0.1:{server.server_port}")
    try:
        http = _http(dispatcher)
        assert 'id="booking-geocode"' in http.get(URL).content.decode()
        found = http.get(LOCATE, {"street": "Puławska 100", "postal_code": "02-554"}).json()
        assert found["found"] and found["district"] == "mokotow" and found["latitude"] == 52.19
        assert http.get(LOCATE, {"street": "Nieznana 1"}).json()["found"] is False
    finally:
        server.shutdown()


def test_the_page_carries_the_map_and_keeps_the_typed_coordinates_for_use_without_script(dispatcher):
    page = _http(dispatcher).get(URL).content.decode()
    assert 'id="booking-map"' in page and "integration/new_job.js" in page and "leaflet" in page.lower()
    assert 'name="latitude"' in page and 'name="longitude"' in page and 'id="booking-geocode"' not in page


def test_only_the_office_may_look_up_points(anna_user):
    assert _http(anna_user).get(LOCATE, {"latitude": "52.19", "longitude": "21.02"}).status_code in (302, 403)
