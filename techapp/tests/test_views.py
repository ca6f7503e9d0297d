"""The technician app's pages: the technician's own days and jobs only, the install files, the
replay endpoint, the shift."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hvaccrm.tests.factories import TechnicianFactory
from techapp.tests.helpers import action, job_for

pytestmark = pytest.mark.django_db


def test_the_day_lists_own_stops_with_window_client_phone_and_navigation(client, technician_mokotow):
    job = job_for(technician_mokotow)
    client.force_login(technician_mokotow.user)
    page = client.get(reverse("techapp:day")).content.decode()
    assert job.client.name in page and "tel:" in page and "openstreetmap.org/directions" in page
    assert reverse("techapp:job", args=[job.pk]) in page and 'rel="manifest"' in page


def test_a_job_shows_its_unit_history_notes_and_conversation(client, technician_mokotow):
    job = job_for(technician_mokotow, status="on_site")
    client.force_login(technician_mokotow.user)
    page = client.get(reverse("techapp:job", args=[job.pk])).content.decode()
    assert job.description in page and "R32" in page and 'id="completion-form"' in page
    assert 'id="message-form"' in page


def test_another_technicians_job_is_a_404(client, technician_mokotow):
    job = job_for(TechnicianFactory())
    client.force_login(technician_mokotow.user)
    assert client.get(reverse("techapp:job", args=[job.pk])).status_code == 404
    assert client.post(reverse("techapp:job_action", args=[job.pk]), {"kind": "step"}).status_code == 404


def test_office_staff_have_no_technician_app(client, dispatcher):
    client.force_login(dispatcher)
    assert client.get(reverse("techapp:day")).status_code == 404


def test_the_replay_endpoint_answers_each_action_and_a_replay_once(client, technician_mokotow):
    job = job_for(technician_mokotow)
    client.force_login(technician_mokotow.user)
    a = action("step", job=job.pk, to_status="en_route")
    url = reverse("techapp:actions")
    first = client.post(url, {"actions": [a]}, content_type="application/json").json()["results"][0]
    again = client.post(url, {"actions": [a]}, content_type="application/json").json()["results"][0]
    assert first["ok"] and not first["replayed"] and again["replayed"]
    assert client.post(url, {"actions": "x"}, content_type="application/json").status_code == 400


def test_the_form_fallback_applies_a_double_submit_once(client, technician_mokotow):
    job = job_for(technician_mokotow)
    client.force_login(technician_mokotow.user)
    form = {"kind": "message", "action_id": "7b0c5f8e-4d8e-4a61-9a7e-0a4f7d6c1e11", "body": "Jestem pod blokiem"}
    client.post(reverse("techapp:job_action", args=[job.pk]), form)
    client.post(reverse("techapp:job_action", args=[job.pk]), form)
    from communications.models import Message

    assert Message.objects.filter(body="Jestem pod blokiem").count() == 1


def test_the_technician_starts_and_ends_the_shift(client, technician_mokotow):
    client.force_login(technician_mokotow.user)
    client.post(reverse("techapp:shift"), {"on_shift": "0"})
    technician_mokotow.refresh_from_db()
    assert not technician_mokotow.on_shift and technician_mokotow.last_latitude is None
    client.post(reverse("techapp:shift"), {"on_shift": "1"})
    technician_mokotow.refresh_from_db()
    assert technician_mokotow.on_shift


def test_the_manifest_and_the_service_worker_are_served_for_the_apps_scope(client):
    manifest = client.get(reverse("techapp:manifest"))
    assert manifest["Content-Type"] == "application/manifest+json" and manifest.json()["scope"] == "/tech/"
    sw = client.get(reverse("techapp:sw"))
    assert sw["Service-Worker-Allowed"] == "/tech/" and "javascript" in sw["Content-Type"]


def test_the_pages_are_polish_first_with_english_one_tap_away(client, technician_mokotow):
    client.force_login(technician_mokotow.user)
    page = client.get(reverse("techapp:day"), HTTP_ACCEPT_LANGUAGE="pl").content.decode()
    assert "Rozpocznij zmianę" in page or "Zakończ zmianę" in page
    assert 'value="en"' in page


def test_the_shift_area_switches_the_emergency_sms_wake_up_off_and_on(client, technician_mokotow):
    from communications.selectors import emergency_sms_of

    client.force_login(technician_mokotow.user)
    page = client.get(reverse("techapp:day")).content.decode()
    assert 'id="emergency-sms"' in page and 'name="emergency_sms" value="0"' in page  # on by default
    client.post(reverse("techapp:emergency_sms"), {"emergency_sms": "0"})
    assert emergency_sms_of(user_id=technician_mokotow.user_id) is False
    assert 'name="emergency_sms" value="1"' in client.get(reverse("techapp:day")).content.decode()
    client.post(reverse("techapp:emergency_sms"), {"emergency_sms": "1"})
    assert emergency_sms_of(user_id=technician_mokotow.user_id) is True
