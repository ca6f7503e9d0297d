"""Every staff read of a client's personal data leaves one access-trail row: generated from the URL
configuration (and the admin registry), so a new view is trailed or listed with the reason it
shows no personal data."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import URLResolver, get_resolver, reverse

from hvaccrm.access_trail import NO_PERSONAL_DATA, NO_PERSONAL_DATA_MODELS
from hvaccrm.models import AccessRecord
from hvaccrm.services import job_create

# The client's own windows: staff are not let in (the portal's tests prove it), so no staff read.
CLIENT_ONLY_NAMESPACES = {"portal": "the client's own pages", "portal-api": "the client's own API"}


def _url_names(patterns=None, ns: str | None = None):
    """(view name, parameter names) of every non-admin URL pattern."""
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            if p.namespace == "admin":
                continue
            yield from _url_names(p.url_patterns, f"{ns}:{p.namespace}" if ns and p.namespace else p.namespace or ns)
        elif p.name:
            params = set(p.pattern.regex.groupindex)
            if "format" not in params:  # DRF's .json twins of the same view
                yield (f"{ns}:{p.name}" if ns else p.name), params


@pytest.fixture
def sample(client_anna, technician_mokotow):
    # By name: the core's tests import no app (import-linter), the URL map reaches them all.
    conversation = apps.get_model("communications", "Conversation").objects.create(
        client=client_anna, subject="Nie grzeje", channel="portal",
        job=job_create(site=client_anna.sites.get(), service_type="repair", description="Nie grzeje"))
    job = conversation.job
    message = apps.get_model("communications", "Message").objects.create(
        conversation=conversation, author_role="client", body="Dzień dobry, nie grzeje", language="pl")
    from hvaccrm.tests.factories import EquipmentFactory

    unit = EquipmentFactory(site=client_anna.sites.get())
    return {"job": job, "conversation": conversation, "message": message, "unit": unit}


def _kwargs(name: str, params: set[str], s: dict) -> dict | None:
    """URL arguments for a view with parameters; None: the test does not know it (it fails)."""
    by_name = {
        "communications:conversation": {"pk": s["conversation"].pk},
        "communications:inbound-sms-provider": {"provider": "generic"},
        "mapping:board_propose": {"job_id": s["job"].pk},
        "integration:take_slot": {"proposal_id": 1},
        "mapping:my_day_step": {"job_id": s["job"].pk},
        "mapping:my_day_complete": {"job_id": s["job"].pk},
        "audit:switch_set": {"target": "prophecy"},
        "job-detail": {"pk": s["job"].pk},
        "communications-api:conversation-detail": {"pk": s["conversation"].pk},
        "communications-api:message-detail": {"pk": s["message"].pk},
        "communications-api:message-read": {"pk": s["message"].pk},
        "communications-api:alert-accept": {"pk": 1}, "communications-api:alert-decline": {"pk": 1},
        "communications-api:notification-detail": {"pk": 1}, "communications-api:notification-ack": {"pk": 1},
        "communications-api:notification-read": {"pk": 1}, "communications-api:delivery-detail": {"pk": 1},
        "communications-api:delivery-retry": {"pk": 1}, "sent-email": {"key": "none"},
        "prophecy:district": {"slug": "mokotow"},
        "fgas-register-card": {"equipment_id": s["unit"].pk},
        # The technician app answers staff with 404 (docs/techapp.md): nothing read, no row.
        "techapp:job": {"job_id": s["job"].pk}, "techapp:job_action": {"job_id": s["job"].pk},
    }
    return {} if not params else by_name.get(name)


def test_every_staff_read_of_personal_data_leaves_one_trail_row(client, administrator, sample):
    client.force_login(administrator)
    unknown, untrailed = [], []
    for name, params in sorted(_url_names()):
        if name in NO_PERSONAL_DATA or name.split(":")[0] in CLIENT_ONLY_NAMESPACES:
            continue
        kwargs = _kwargs(name, params, sample)
        if kwargs is None:
            unknown.append(name)
            continue
        before = AccessRecord.objects.count()
        response = client.get(reverse(name, kwargs=kwargs))
        rows = AccessRecord.objects.count() - before
        # A page that answered shows what it read: one row. A refusal or a redirect read nothing.
        if rows != (1 if response.status_code == 200 else 0):
            untrailed.append((name, response.status_code, rows))
    assert not unknown, f"new views: give their URL arguments here or list them in NO_PERSONAL_DATA: {unknown}"
    assert not untrailed, f"(view, status, trail rows) that break 'one row per read': {untrailed}"


def test_every_admin_page_of_client_data_leaves_one_trail_row_per_view(client, administrator, sample):
    client.force_login(administrator)
    for model in admin.site._registry:
        if model._meta.label_lower in NO_PERSONAL_DATA_MODELS:
            continue
        obj = model._default_manager.first()
        opts = model._meta
        urls = [reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist") + "?q=Anna"]
        if obj is not None:
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
        for url in urls:
            before = AccessRecord.objects.count()
            assert client.get(url).status_code == 200, url
            assert AccessRecord.objects.count() - before == 1, url


def test_a_job_page_names_its_client_in_the_trail(client, dispatcher, sample):
    from django.contrib.auth.models import Permission

    dispatcher.user_permissions.add(Permission.objects.get(codename="view_servicejob"))
    client.force_login(dispatcher)
    job = sample["job"]
    assert client.get(reverse("admin:hvaccrm_servicejob_change", args=[job.pk])).status_code == 200
    row = AccessRecord.objects.latest("pk")
    assert (row.actor, row.object_type, row.object_id, row.subject_client_id) == (
        dispatcher, "hvaccrm.servicejob", str(job.pk), job.client_id)


def test_a_clients_admin_page_lists_who_saw_their_data_paginated(client, administrator, dispatcher, sample,
                                                                 client_anna, client_bartek):
    from django.contrib.auth.models import Permission

    dispatcher.user_permissions.add(Permission.objects.get(codename="view_servicejob"))
    client.force_login(dispatcher)
    client.get(reverse("admin:hvaccrm_servicejob_change", args=[sample["job"].pk]))
    client.force_login(administrator)
    page = client.get(reverse("admin:hvaccrm_client_access", args=[client_anna.pk]))
    assert page.status_code == 200
    assert "dorota" in page.content.decode()
    other = client.get(reverse("admin:hvaccrm_client_access", args=[client_bartek.pk])).content.decode()
    assert "dorota" not in other
    from hvaccrm.tests.factories import UserFactory

    client.force_login(UserFactory(username="stazysta", is_staff=True))  # staff without the trail's permission
    assert client.get(reverse("admin:hvaccrm_client_access", args=[client_anna.pk])).status_code == 403
