from __future__ import annotations

import base64

import pytest
from django.urls import reverse

from hvaccrm.models import AccessRecord

pytestmark = pytest.mark.django_db


def test_a_dispatcher_may_view_and_change_jobs_but_not_manage_users(client, dispatcher):
    client.force_login(dispatcher)
    assert client.get(reverse("admin:hvaccrm_servicejob_changelist")).status_code == 200
    assert dispatcher.has_perm("hvaccrm.change_servicejob")
    assert not dispatcher.has_perm("auth.change_user")
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403


def test_nobody_but_the_system_may_edit_the_trails(manager, administrator):
    for user in (manager, administrator):
        for perm in ("change_accessrecord", "delete_accessrecord", "change_integrationlog", "delete_consent"):
            assert not user.groups.filter(permissions__codename=perm).exists(), (user, perm)


def test_opening_a_client_in_the_admin_is_written_to_the_access_trail(client, dispatcher, client_anna):
    client.force_login(dispatcher)
    assert client.get(reverse("admin:hvaccrm_client_change", args=[client_anna.pk])).status_code == 200
    entry = AccessRecord.objects.get(subject_client_id=client_anna.pk)
    assert entry.actor == dispatcher and entry.action == "view"


def test_a_technicians_device_gets_a_token_then_a_single_use_socket_ticket(client, technician_mokotow):
    basic = base64.b64encode(f"{technician_mokotow.user.username}:Correct-Horse-42".encode()).decode()
    login = client.post("/api/auth/login/", HTTP_AUTHORIZATION=f"Basic {basic}")
    assert login.status_code == 200
    token = login.json()["token"]
    ticket = client.post("/api/core/ws-ticket/", HTTP_AUTHORIZATION=f"Token {token}")
    assert ticket.status_code == 201 and len(ticket.json()["ticket"]) > 30
    assert client.post("/api/auth/logout/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 204
    assert client.post("/api/core/ws-ticket/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401
