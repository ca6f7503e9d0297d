"""Client A never reads or changes client B's objects: every URL, form and API is tried with B's ids."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hvaccrm.models import Consent, JobFeedback, ServiceJob
from portal.tests.factories import ServiceJobFactory, at, next_weekday, scheduled_job, window_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def bartek_jobs(client_bartek, bartek_unit, technician_mokotow):
    day = next_weekday(5)
    upcoming = scheduled_job(client=client_bartek, technician=technician_mokotow, start=at(day, 8),
                             description="Bartek's secret description")
    done = ServiceJobFactory(site=client_bartek.sites.first(), status="completed", equipment=bartek_unit,
                             description="Bartek's finished job")
    return upcoming, done


def test_a_client_cannot_open_another_clients_site_or_equipment(anna_http, client_bartek, bartek_unit):
    site = client_bartek.sites.first()
    assert anna_http.get(reverse("portal:site", args=[site.pk])).status_code == 404
    assert anna_http.get(reverse("portal:equipment", args=[bartek_unit.pk])).status_code == 404
    assert anna_http.get(reverse("portal:book") + f"?site={site.pk}").context["site"].client_id != client_bartek.pk


def test_a_client_cannot_read_another_clients_visits_by_any_url(anna_http, bartek_jobs):
    for job in bartek_jobs:
        for name in ("portal:visit", "portal:visit_card", "portal:visit_move", "portal:feedback"):
            assert anna_http.get(reverse(name, args=[job.pk])).status_code == 404, name
        assert anna_http.get(reverse("portal:booked", args=[job.pk])).status_code == 404
    listing = anna_http.get(reverse("portal:visits")).content.decode() + anna_http.get(
        reverse("portal:visits") + "?show=past").content.decode() + anna_http.get(reverse("portal:home")).content.decode()
    assert "Bartek" not in listing


def test_a_client_cannot_cancel_move_or_rate_another_clients_visit(anna_http, bartek_jobs):
    upcoming, done = bartek_jobs
    assert anna_http.post(reverse("portal:visit_cancel", args=[upcoming.pk])).status_code == 404
    key = window_key(next_weekday(8), 12)
    assert anna_http.post(reverse("portal:visit_move", args=[upcoming.pk]), {"window": key}).status_code == 404
    assert anna_http.post(reverse("portal:feedback", args=[done.pk]), {"rating": 1, "comment": "x"}).status_code == 404
    upcoming.refresh_from_db()
    assert upcoming.status == "scheduled" and upcoming.scheduled_start == at(next_weekday(5), 8)
    assert not JobFeedback.objects.filter(job=done).exists()


def test_a_client_cannot_book_at_another_clients_site_or_unit(anna_http, client_bartek, bartek_unit):
    day = next_weekday(4)
    response = anna_http.post(reverse("portal:book"), {
        "site": client_bartek.sites.first().pk, "service_type": "repair", "description": "x",
        "windows": [window_key(day)]})
    assert response.status_code == 400 and response.context["form"].errors
    response = anna_http.post(reverse("portal:book"), {
        "site": response.context["site"].pk, "service_type": "repair", "equipment": bartek_unit.pk,
        "windows": [window_key(day)]})
    assert response.status_code == 400
    assert not ServiceJob.objects.exists()


def test_a_client_cannot_read_another_clients_feedback(anna_http, bartek_jobs):
    _, done = bartek_jobs
    JobFeedback.objects.create(job=done, client_id=done.client_id, rating=2, comment="Bartek was unhappy")
    export = anna_http.get(reverse("portal:export_json")).json()
    assert export["feedback"] == []
    assert "Bartek was unhappy" not in anna_http.get(reverse("portal:export")).content.decode()


def test_a_client_cannot_read_or_change_another_clients_consents(anna_http, client_anna, client_bartek, bartek_user):
    Consent.objects.create(client=client_bartek, purpose="marketing_email", granted=True, channel="office", text_version="1")
    page = anna_http.get(reverse("portal:consents"))
    assert list(page.context["history"]) == []
    # the form has no client field: whatever is posted changes the signed-in client's ledger only
    anna_http.post(reverse("portal:consents"), {"purpose": "marketing_email", "granted": "0", "client": client_bartek.pk})
    assert Consent.objects.filter(client=client_bartek).count() == 1
    assert Consent.objects.filter(client=client_anna, granted=False).count() == 1


def test_a_client_cannot_read_another_clients_sites_or_visits_through_the_api(anna_http, client_bartek, bartek_jobs, client_anna):
    site = client_bartek.sites.first()
    assert anna_http.get(f"/api/portal/sites/{site.pk}/").status_code == 404
    for job in bartek_jobs:
        assert anna_http.get(f"/api/portal/visits/{job.pk}/").status_code == 404
        assert anna_http.get(f"/api/core/jobs/{job.pk}/").status_code == 404
    sites = anna_http.get("/api/portal/sites/").json()
    ids = [s["id"] for s in (sites["results"] if isinstance(sites, dict) else sites)]
    assert ids == [client_anna.sites.first().pk]
    visits = anna_http.get("/api/portal/visits/").json()
    assert (visits["results"] if isinstance(visits, dict) else visits) == []


def test_the_api_refuses_anonymous_callers(client, client_anna):
    assert client.get("/api/portal/visits/").status_code in (401, 403)


def test_a_client_cannot_change_another_clients_contact_data(anna_http, client_anna, client_bartek):
    anna_http.post(reverse("portal:contact"), {"name": "Hacked", "email": "x@example.com", "phone": "", "billing_address": "",
                                               "preferred_language": "pl", "id": client_bartek.pk, "pk": client_bartek.pk})
    client_bartek.refresh_from_db()
    client_anna.refresh_from_db()
    assert client_bartek.name == "Bartek Nowak" and client_anna.name == "Hacked"
