"""Booking and changing visits: windows (open, future), emergencies, gas safety, the cut-off, feedback."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from hvaccrm.errors import ServiceError
from hvaccrm.models import IntegrationLog, JobFeedback, ServiceJob
from portal import conf, selectors, services
from portal.models import Booking
from portal.tests.factories import ServiceJobFactory, TechnicianFactory, at, next_weekday, scheduled_job, window_key

pytestmark = pytest.mark.django_db


def _book(http, site, **data):
    payload = {"site": site.pk, "service_type": "maintenance", "description": "Przegląd klimatyzacji", **data}
    return http.post(reverse("portal:book"), payload)


def test_booking_a_visit_creates_a_portal_job_with_its_outbox_rows_and_a_confirmation(
        anna_http, client_anna, anna_unit, django_capture_on_commit_callbacks):
    day = next_weekday(4)
    with django_capture_on_commit_callbacks(execute=True):
        response = _book(anna_http, client_anna.sites.first(), equipment=anna_unit.pk,
                         windows=[window_key(day, 12), window_key(day, 8)])
    job = ServiceJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("portal:booked", args=[job.pk])
    assert job.source == "portal" and job.urgency == "normal" and job.equipment == anna_unit
    assert job.requested_start == at(day, 8) and job.requested_end == at(day, 12)  # the earliest window
    assert len(job.portal_booking.windows) == 2
    kinds = set(IntegrationLog.objects.filter(object_id=str(job.pk)).values_list("target", "kind"))
    assert {("portal", "booking.created"), ("map", "job.created"), ("notifications", "job.created")} <= kinds
    assert len(mail.outbox) == 1 and str(job.pk) in mail.outbox[0].subject
    page = anna_http.get(response.url)
    assert page.status_code == 200 and page.context["booking"] == job.portal_booking


def test_a_window_in_the_past_is_refused_and_nothing_is_created(anna_http, client_anna):
    yesterday = timezone.localdate() - timedelta(days=1)
    response = _book(anna_http, client_anna.sites.first(), windows=[window_key(yesterday, 8)])
    assert response.status_code == 400 and response.context["form"].errors
    with pytest.raises(ServiceError) as err:
        services.booking_create(user=client_anna.users.get(), site_id=client_anna.sites.first().pk,
                                service_type="repair", window_keys=[window_key(yesterday, 8)])
    assert "windows" in err.value.fields
    assert not ServiceJob.objects.exists()


def test_a_window_too_soon_or_not_a_working_window_is_refused(anna_user, client_anna):
    site = client_anna.sites.first()
    now = timezone.now()
    soon = timezone.localtime(now + timedelta(hours=conf.BOOKING_LEAD_HOURS - 2))
    for key in (window_key(next_weekday(3), 7), window_key(next_weekday(3), 20), "garbage", f"{soon:%Y-%m-%d}T{soon.hour:02d}"):
        with pytest.raises(ServiceError):
            services.booking_create(user=anna_user, site_id=site.pk, service_type="repair", window_keys=[key])
    assert not ServiceJob.objects.exists()


def test_a_full_window_is_closed_and_refused(anna_http, anna_user, client_anna, client_bartek, technician_mokotow):
    day = next_weekday(6)
    capacity = selectors.window_capacity(district_id=client_anna.sites.first().district_id)
    for _ in range(capacity):
        ServiceJobFactory(site=client_anna.sites.first(), requested_start=at(day, 8), requested_end=at(day, 12))
    windows = {w.key: w for w in selectors.window_list(site=client_anna.sites.first())}
    assert windows[window_key(day, 8)].open is False and windows[window_key(day, 12)].open is True
    page = anna_http.get(reverse("portal:book"))
    offered = [w.key for _, ws in page.context["days"] for w in ws]
    assert window_key(day, 8) not in offered and window_key(day, 12) in offered
    response = _book(anna_http, client_anna.sites.first(), windows=[window_key(day, 8)])
    assert response.status_code == 400 and "windows" in response.context["form"].errors
    assert ServiceJob.objects.count() == capacity


def test_a_booking_needs_a_window_unless_it_is_an_emergency(anna_http, client_anna):
    response = _book(anna_http, client_anna.sites.first())
    assert response.status_code == 400 and "windows" in response.context["form"].errors


def test_an_emergency_description_is_booked_at_once_as_an_emergency(anna_http, client_anna, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _book(anna_http, client_anna.sites.first(), service_type="repair",
                         description="Awaria! Leje się woda z jednostki, zalało biuro")
    job = ServiceJob.objects.get()
    assert response.status_code == 302
    assert job.urgency == "emergency" and job.priority == 100 and job.requested_start is None
    assert job.portal_booking.emergency is True


def test_a_gas_smell_shows_the_safety_instruction_first(anna_http, client_anna):
    page = anna_http.get(reverse("portal:book")).content.decode()
    assert 'id="gas-warning"' in page and "992" in page and "112" in page  # ready for the script, hidden
    response = _book(anna_http, client_anna.sites.first(), service_type="repair",
                     description="Czuć gaz w kuchni przy kotle")
    job = ServiceJob.objects.get()
    assert job.urgency == "emergency" and job.portal_booking.gas_warning is True
    body = anna_http.get(response.url).content.decode()
    warning_at, summary_at = body.index('id="gas-warning"'), body.index("<h1>")
    assert warning_at < summary_at and "992" in body[warning_at:summary_at] and "hidden" not in body[warning_at:warning_at + 80]


@pytest.mark.parametrize("text", ["Czuję zapach gazu w łazience", "I can smell gas near the boiler", "Ulatnia się gaz!"])
def test_a_gas_smell_in_a_booking_is_an_emergency_with_the_safety_instruction(text):
    assert services.description_triage(text) == (True, "emergency")


def test_the_booking_triage_is_the_message_classifier():
    assert services.description_triage("Pożar, dym z jednostki") == (False, "emergency")
    assert services.description_triage("Coroczny przegląd pompy ciepła")[1] == "normal"


def test_a_broken_model_leaves_the_safety_rules_deciding_a_booking(monkeypatch):
    from integration import portal as subsystems

    def broken(_text, **_kwargs):
        raise RuntimeError("model file unreadable")

    monkeypatch.setattr(subsystems, "comms_classify", broken)
    assert services.description_triage("Czuć gaz w kuchni przy kotle") == (True, "emergency")


def test_the_live_check_answers_the_urgency_and_the_one_safety_instruction(anna_http, client_anna):
    from hvaccrm.safety import gas_safety_instruction

    response = anna_http.post(reverse("portal:book_triage"), {"description": "W kuchni czuć gaz"})
    assert response.status_code == 200
    assert response.json() == {"urgency": "emergency", "emergency": True, "gas": True,
                               "safety_instruction": gas_safety_instruction()}
    quiet = anna_http.post(reverse("portal:book_triage"), {"description": "Przegląd klimatyzacji w maju"}).json()
    assert quiet == {"urgency": "normal", "emergency": False, "gas": False, "safety_instruction": None}


def test_the_live_check_is_for_signed_in_clients_only(client, technician_mokotow, dispatcher):
    anonymous = client.post(reverse("portal:book_triage"), {"description": "czuć gaz"})
    assert anonymous.status_code == 302 and "login" in anonymous.url
    for staff in (technician_mokotow.user, dispatcher):
        client.force_login(staff)
        assert client.post(reverse("portal:book_triage"), {"description": "czuć gaz"}).status_code == 403


def test_the_live_check_is_rate_limited(anna_http, client_anna, monkeypatch):
    monkeypatch.setattr(conf, "TRIAGE_CHECKS_PER_MINUTE", 2)
    codes = [anna_http.post(reverse("portal:book_triage"), {"description": "zimno"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def _anna_visit(client_anna, technician_mokotow, hours_ahead: float):
    start = timezone.now() + timedelta(hours=hours_ahead)
    return scheduled_job(client=client_anna, technician=technician_mokotow, start=start)


def test_a_client_can_cancel_a_visit_before_the_cut_off(anna_http, client_anna, technician_mokotow):
    job = _anna_visit(client_anna, technician_mokotow, conf.CHANGE_CUTOFF_HOURS + 5)
    response = anna_http.post(reverse("portal:visit_cancel", args=[job.pk]))
    job.refresh_from_db()
    assert response.status_code == 302 and job.status == "cancelled"
    assert IntegrationLog.objects.filter(object_id=str(job.pk), kind="job.updated").exists()


def test_cancelling_or_moving_after_the_cut_off_is_refused(anna_http, anna_user, client_anna, technician_mokotow):
    job = _anna_visit(client_anna, technician_mokotow, conf.CHANGE_CUTOFF_HOURS - 1)
    anna_http.post(reverse("portal:visit_cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "scheduled"
    response = anna_http.post(reverse("portal:visit_move", args=[job.pk]), {"window": window_key(next_weekday(5), 12)})
    assert response.status_code == 400
    with pytest.raises(ServiceError) as err:
        services.visit_cancel(user=anna_user, job_id=job.pk)
    assert err.value.code == "cutoff_passed"
    job.refresh_from_db()
    assert job.status == "scheduled"
    assert 'id="cancel-visit"' not in anna_http.get(reverse("portal:visit", args=[job.pk])).content.decode()


def test_a_client_can_move_a_visit_to_an_open_window(anna_http, client_anna, technician_mokotow):
    job = _anna_visit(client_anna, technician_mokotow, 24 * 3)
    day = next_weekday(7)
    response = anna_http.post(reverse("portal:visit_move", args=[job.pk]), {"window": window_key(day, 16)})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.scheduled_start == at(day, 16) and job.scheduled_end == at(day, 20) and job.status == "scheduled"


def test_moving_into_a_past_window_is_refused(anna_user, client_anna, technician_mokotow):
    job = _anna_visit(client_anna, technician_mokotow, 24 * 3)
    with pytest.raises(ServiceError):
        services.visit_move(user=anna_user, job_id=job.pk, window_key=window_key(timezone.localdate() - timedelta(days=2)))


def test_feedback_on_a_finished_visit_is_saved_once_and_a_low_score_is_recorded_for_managers(anna_http, client_anna):
    job = ServiceJobFactory(site=client_anna.sites.first(), status="completed", completed_at=timezone.now())
    response = anna_http.post(reverse("portal:feedback", args=[job.pk]), {"rating": 1, "comment": "Spóźnienie 3 godziny"})
    assert response.status_code == 302
    fb = JobFeedback.objects.get(job=job)
    assert fb.rating == 1 and fb.comment == "Spóźnienie 3 godziny"
    assert IntegrationLog.objects.filter(kind="feedback.created", payload__rating=1, payload__client=client_anna.pk).exists()
    again = anna_http.post(reverse("portal:feedback", args=[job.pk]), {"rating": 5})
    assert again.status_code == 400 and JobFeedback.objects.count() == 1


def test_feedback_on_an_unfinished_visit_is_refused(anna_http, client_anna):
    job = ServiceJobFactory(site=client_anna.sites.first())
    response = anna_http.post(reverse("portal:feedback", args=[job.pk]), {"rating": 4})
    assert response.status_code == 400 and not JobFeedback.objects.exists()


def test_booking_pages_offer_only_future_open_windows(anna_http):
    page = anna_http.get(reverse("portal:book"))
    earliest = timezone.now() + timedelta(hours=conf.BOOKING_LEAD_HOURS)
    windows = [w for _, ws in page.context["days"] for w in ws]
    assert windows and all(w.open and w.start >= earliest for w in windows)
    assert all(timezone.localtime(w.start).weekday() < 6 for w in windows)


def test_window_capacity_follows_the_technicians_of_the_district(client_anna):
    from hvaccrm.models import Technician

    district_id = client_anna.sites.first().district_id
    TechnicianFactory()
    TechnicianFactory()
    n = Technician.objects.filter(active=True, home_district_id=district_id).count()
    assert n >= 2
    assert selectors.window_capacity(district_id=district_id) == n * conf.WINDOW_JOBS_PER_TECHNICIAN


def test_the_booking_row_keeps_the_preferred_windows(anna_user, client_anna):
    day = next_weekday(9)
    job, booking = services.booking_create(user=anna_user, site_id=client_anna.sites.first().pk, service_type="inspection",
                                           window_keys=[window_key(day, 8), window_key(day, 12), window_key(day, 16)])
    assert Booking.objects.get(job=job).windows[2]["start"].startswith(f"{day:%Y-%m-%d}T16")
    with pytest.raises(ServiceError):
        services.booking_create(user=anna_user, site_id=client_anna.sites.first().pk, service_type="inspection",
                                window_keys=[window_key(day, 8), window_key(day, 12), window_key(day, 16), window_key(next_weekday(10))])
