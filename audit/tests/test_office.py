"""The admin index is the office's home; the audit pages live in the admin, old addresses redirect."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from audit.office import office_counts
from hvaccrm.models.jobs import JobStatus
from hvaccrm.tests.factories import ServiceJobFactory, TechnicianFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _page(user, url):
    http = Client()
    http.force_login(user)
    return http.get(url, HTTP_ACCEPT_LANGUAGE="en")


def test_todays_counts_open_unassigned_emergencies_and_late_technicians():
    ServiceJobFactory()
    ServiceJobFactory(urgency="emergency")
    late = TechnicianFactory()
    ServiceJobFactory(technician=late, status=JobStatus.SCHEDULED, eta=timezone.now() - timedelta(minutes=40))
    ServiceJobFactory(technician=TechnicianFactory(), status=JobStatus.SCHEDULED, eta=timezone.now() + timedelta(hours=1))
    assert office_counts() == {"open": 4, "unassigned": 2, "emergencies": 1, "late": 1}


def test_the_dispatchers_admin_home_links_every_office_page_but_not_the_audit(dispatcher):
    page = _page(dispatcher, reverse("admin:index")).content.decode()
    for name in ("integration:new_job", "communications:inbox", "mapping:board", "mapping:dispatch", "prophecy:search", "prophecy:dashboard"):
        assert f'href="{reverse(name)}"' in page, name
    assert 'id="office-today"' in page and 'data-tile="late"' in page
    assert reverse("audit:consistency") not in page


def test_a_managers_admin_home_links_the_audit_pages_inside_the_admin(manager):
    page = _page(manager, reverse("admin:index")).content.decode()
    for name in ("audit:dashboard", "audit:consistency", "audit:checkpoints", "audit:access_trail"):
        assert f'href="{reverse(name)}"' in page and reverse(name).startswith("/admin/audit/")


def test_the_old_audit_addresses_redirect_into_the_admin_and_roles_still_apply(dispatcher, manager):
    http = Client()
    http.force_login(manager)
    moved = http.get("/audit/checkpoints/?first=1&second=2")
    assert moved.status_code == 302 and moved.url == "/admin/audit/checkpoints/?first=1&second=2"
    assert http.get(reverse("audit:consistency")).status_code == 200
    assert _page(dispatcher, reverse("audit:consistency")).status_code == 403
