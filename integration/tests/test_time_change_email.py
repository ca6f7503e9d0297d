"""A phone client with an e-mail address and no portal user hears a later change of the visit's
time by e-mail (outbox job.time_change_email): once per change, in the client's language, with
the real date and window; an ETA drift or a re-plan that keeps the window sends nothing."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone, translation

from hvaccrm.closed_days import day_is_closed
from hvaccrm.models import IntegrationLog
from hvaccrm.outbox_run import outbox_process
from hvaccrm.services import job_assign, job_eta_set, job_reschedule
from hvaccrm.tests.factories import TechnicianFactory, UserFactory, district
from integration import office

pytestmark = pytest.mark.django_db
KIND = "job.time_change_email"


def _working_day(after: int):
    day = timezone.localdate() + timedelta(days=after)
    while day.weekday() >= 5 or day_is_closed(day):
        day += timedelta(days=1)
    return day


def _at(day, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@pytest.fixture
def technician():
    return TechnicianFactory(home_district=district("mokotow"), skills=["split_ac", "fgas_certified"],
                             shift_start=time(8), shift_end=time(16))


@pytest.fixture
def booked(dispatcher, technician, django_capture_on_commit_callbacks):
    """A phone client without a portal user, booked in a slot and e-mailed the confirmation."""
    booking = office.PhoneBooking(service_type="repair", description="Klimatyzacja nie chłodzi", urgency="normal",
                                  day=_working_day(2), from_hour=8, to_hour=12, client_name="Celina Nowak",
                                  phone="+48600100200", email="celina@example.com", street="Puławska 100",
                                  latitude=52.19, longitude=21.02)
    with django_capture_on_commit_callbacks(execute=True):
        job, proposals = office.phone_booking_create(booking=booking, actor=dispatcher)
    with django_capture_on_commit_callbacks(execute=True):
        job = office.phone_booking_slot_take(proposal_id=proposals[0].pk, actor=dispatcher)
    assert [m.subject for m in mail.outbox if "celina@example.com" in m.to]  # the confirmation
    mail.outbox.clear()
    return job


def _celina_mails():
    return [m for m in mail.outbox if m.to == ["celina@example.com"]]


def test_a_rescheduled_visit_is_emailed_once_with_the_new_date_and_window_in_the_clients_language(
        booked, dispatcher, django_capture_on_commit_callbacks):
    new_day = _working_day(5)
    with django_capture_on_commit_callbacks(execute=True), translation.override("en"):  # the office's language
        job_reschedule(job=booked, scheduled_start=_at(new_day, 13), scheduled_end=_at(new_day, 14, 30),
                       actor=dispatcher, reason="client asked")
    [email] = _celina_mails()
    assert email.subject.startswith("Zmiana terminu wizyty")  # Polish: her language, not the office's
    assert f"{new_day:%d.%m.%Y}, 13:00–14:30" in email.body and "?" not in email.body
    row = IntegrationLog.objects.get(kind=KIND)
    assert row.payload["job"] == booked.pk and row.details.get("emailed_at")
    # The row runs again (a sweep, a repair): nothing more is sent.
    IntegrationLog.objects.filter(pk=row.pk).update(state="failed")
    outbox_process(log_id=row.pk)
    # The change's notification row runs again too: no second e-mail row is owed.
    for change_row in IntegrationLog.objects.filter(kind="job.updated", target="notifications"):
        IntegrationLog.objects.filter(pk=change_row.pk).update(state="failed")
        outbox_process(log_id=change_row.pk)
    assert len(_celina_mails()) == 1 and IntegrationLog.objects.filter(kind=KIND).count() == 1


def test_an_eta_drift_or_a_replan_inside_the_told_window_sends_nothing(
        booked, technician, django_capture_on_commit_callbacks):
    start = booked.scheduled_start
    with django_capture_on_commit_callbacks(execute=True):
        job_eta_set(job=booked, eta=start + timedelta(minutes=20))
        job_assign(job=booked, technician=technician)  # the optimiser's assignment: no actor, no time
    assert not _celina_mails() and not IntegrationLog.objects.filter(kind=KIND).exists()


def test_two_quick_moves_tell_only_the_latest_time(booked, dispatcher, django_capture_on_commit_callbacks):
    first, second = _working_day(5), _working_day(7)
    job_reschedule(job=booked, scheduled_start=_at(first, 9), scheduled_end=_at(first, 10), actor=dispatcher)
    with django_capture_on_commit_callbacks(execute=True):
        job_reschedule(job=booked, scheduled_start=_at(second, 11), scheduled_end=_at(second, 12), actor=dispatcher)
    for row in IntegrationLog.objects.filter(kind="job.updated", target="notifications").order_by("pk"):
        outbox_process(log_id=row.pk)
    for row in IntegrationLog.objects.filter(kind=KIND).order_by("pk"):
        outbox_process(log_id=row.pk)
    bodies = [m.body for m in _celina_mails()]
    assert len(bodies) == 1 and f"{second:%d.%m.%Y}, 11:00–12:00" in bodies[0]
    assert f"{first:%d.%m.%Y}" not in bodies[0]


def test_a_client_who_has_a_portal_user_by_now_is_not_emailed(booked, dispatcher, django_capture_on_commit_callbacks):
    booked.client.users.add(UserFactory(username="celina", email="celina@example.com", role="client"))
    day = _working_day(5)
    with django_capture_on_commit_callbacks(execute=True):
        job_reschedule(job=booked, scheduled_start=_at(day, 9), scheduled_end=_at(day, 10), actor=dispatcher)
    assert not [m for m in _celina_mails() if m.subject.startswith("Zmiana terminu")]
    assert not IntegrationLog.objects.filter(kind=KIND).exists()


def test_a_client_never_emailed_before_is_not_told_of_a_change_by_email(
        client_anna, dispatcher, django_capture_on_commit_callbacks):
    from hvaccrm.tests.factories import ServiceJobFactory

    client_anna.users.clear()  # no portal user, an address, but never e-mailed a confirmation
    job = ServiceJobFactory(site=client_anna.sites.get(), client=client_anna)
    day = _working_day(5)
    with django_capture_on_commit_callbacks(execute=True):
        job_reschedule(job=job, scheduled_start=_at(day, 9), scheduled_end=_at(day, 10), actor=dispatcher)
    assert not IntegrationLog.objects.filter(kind=KIND).exists()
