from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from hvaccrm.models import ServiceJob
from hvaccrm.services import job_assign
from hvaccrm.tests.factories import EquipmentFactory, ServiceJobFactory, SiteFactory, TechnicianFactory

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_the_dispatch_map_loads_leaflet_and_its_script_without_inline_javascript(dispatcher):
    response = browser(dispatcher).get("/mapping/dispatch/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "leaflet/leaflet" in html and "mapping/dispatch.js" in html
    assert 'data-districts-url="/api/mapping/districts.geojson"' in html
    assert 'data-hotspots-url="/api/prophecy/hotspots.geojson"' in html
    # strict CSP: every <script> has a src or is a JSON data island
    import re

    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag


def test_office_pages_are_refused_to_clients_and_technicians(anna_user, technician_mokotow):
    for user in (anna_user, technician_mokotow.user):
        assert browser(user).get("/mapping/dispatch/").status_code == 403
        assert browser(user).get("/mapping/board/").status_code == 403


def test_the_day_board_shows_a_row_per_technician_and_assigns_from_the_tray(dispatcher, technician_mokotow):
    job = ServiceJobFactory()
    c = browser(dispatcher)
    page = c.get("/mapping/board/").content.decode()
    assert f'data-technician="{technician_mokotow.pk}"' in page and f'data-job="{job.pk}"' in page
    c.post("/mapping/board/assign/", {"job": job.pk, "technician": technician_mokotow.pk})
    job.refresh_from_db()
    assert job.status == "scheduled" and job.technician_id == technician_mokotow.pk


def test_every_tray_job_offers_every_technician_and_shows_why_it_is_unassigned(dispatcher, technician_mokotow):
    from mapping.models import DayPlan, UnassignedJob

    other = TechnicianFactory()
    first, second = ServiceJobFactory(), ServiceJobFactory()
    plan = DayPlan.objects.create(day=timezone.localdate())
    UnassignedJob.objects.create(plan=plan, job=first, reason=UnassignedJob.Reason.SKILLS)
    page = browser(dispatcher).get("/mapping/board/").content.decode()
    for tech in (technician_mokotow, other):
        assert page.count(f'<option value="{tech.pk}">{tech}</option>') == 2
    assert page.count(str(UnassignedJob.Reason.SKILLS.label)) == 1
    assert f'data-job="{second.pk}"' in page


def test_my_day_shows_the_notice_the_stops_and_moves_a_job_through_its_statuses(technician_mokotow):
    site = SiteFactory()
    unit = EquipmentFactory(site=site, refrigerant="R410A", refrigerant_charge_kg=Decimal("3.0"))  # 6.26 t CO2e
    job = ServiceJobFactory(site=site, equipment=unit)
    job_assign(job=job, technician=technician_mokotow, scheduled_start=timezone.now(),
               scheduled_end=timezone.now() + timezone.timedelta(hours=1))
    c = browser(technician_mokotow.user)
    page = c.get("/mapping/my-day/").content.decode()
    assert "22³" in page and "openstreetmap.org/directions" in page and f'data-job="{job.pk}"' in page
    c.post(f"/mapping/my-day/{job.pk}/step/", {"to_status": "en_route"})
    c.post(f"/mapping/my-day/{job.pk}/step/", {"to_status": "on_site"})
    job.refresh_from_db()
    assert job.status == "on_site"
    # Under the F-gas register the leak check is required.
    c.post(f"/mapping/my-day/{job.pk}/complete/", {"work_done": "Serwis"})
    job.refresh_from_db()
    assert job.status == "on_site"
    c.post(f"/mapping/my-day/{job.pk}/complete/", {"work_done": "Serwis", "leak_check": "no_leak",
                                                   "refrigerant_added_kg": "0.35", "refrigerant_recovered_kg": ""})
    job.refresh_from_db()
    assert job.status == "completed"
    assert job.report["leak_check"] == "no_leak" and job.report["refrigerant_added_kg"] == "0.35"
    assert job.report["fgas_register"] is True


def test_a_technician_cannot_move_another_technicians_job(technician_mokotow):
    other = TechnicianFactory()
    job = ServiceJobFactory()
    job_assign(job=job, technician=other)
    browser(technician_mokotow.user).post(f"/mapping/my-day/{job.pk}/step/", {"to_status": "en_route"})
    assert ServiceJob.objects.get(pk=job.pk).status == "scheduled"


def test_private_mode_is_switched_from_my_day(technician_mokotow):
    c = browser(technician_mokotow.user)
    c.post("/mapping/my-day/private/", {"private": "1"})
    technician_mokotow.refresh_from_db()
    assert technician_mokotow.private_mode
    assert "Private mode is on" in c.get("/mapping/my-day/").content.decode() or "prywatny" in c.get("/mapping/my-day/").content.decode().lower()


def test_my_day_is_for_technicians_only(dispatcher):
    assert browser(dispatcher).get("/mapping/my-day/").status_code == 403
