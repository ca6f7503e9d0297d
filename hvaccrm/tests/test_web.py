from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from hvaccrm.checks import heartbeat_write
from hvaccrm.models import ServiceJob
from hvaccrm.tests.factories import ServiceJobFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_healthz_answers_200_when_every_check_passes(client):
    heartbeat_write()  # what a running worker does every minute
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and {"database", "redis", "celery"} <= set(body["checks"])


@pytest.mark.django_db
def test_healthz_answers_503_when_a_check_fails(client):
    # No worker heartbeat has been seen: the Celery check fails.
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["celery"]["ok"] is False


def _admin_models():
    return [(m, ma) for m, ma in admin.site._registry.items() if m._meta.app_label in
            ("hvaccrm", "communications", "mapping", "prophecy", "audit", "portal")]


@pytest.mark.django_db
def test_every_admin_changelist_and_change_page_loads_for_staff(client, administrator, client_anna):
    ServiceJobFactory(site=client_anna.sites.first())
    client.force_login(administrator)
    for model, _ in _admin_models():
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        response = client.get(url)
        assert response.status_code == 200, url
        obj = model._default_manager.first()
        if obj is not None:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            assert client.get(change).status_code == 200, change


@pytest.mark.django_db
def test_every_admin_page_is_refused_to_a_client_user(client, anna_user):
    client.force_login(anna_user)
    for model, _ in _admin_models():
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url


@pytest.mark.django_db
def test_the_jobs_changelist_makes_a_constant_number_of_queries(client, administrator, django_assert_max_num_queries):
    for _ in range(30):
        ServiceJobFactory()
    client.force_login(administrator)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("admin:hvaccrm_servicejob_changelist")).status_code == 200


@pytest.mark.django_db
def test_the_jobs_api_shows_a_client_only_their_own_jobs_and_catches_up_with_since(client, anna_user, client_anna, client_bartek):
    mine = ServiceJobFactory(site=client_anna.sites.first())
    ServiceJobFactory(site=client_bartek.sites.first())
    later = ServiceJobFactory(site=client_anna.sites.first())
    client.force_login(anna_user)
    ids = [j["id"] for j in client.get("/api/core/jobs/").json()["results"]]
    assert sorted(ids) == sorted([mine.pk, later.pk])
    since = client.get(f"/api/core/jobs/?since={mine.pk}").json()["results"]
    assert [j["id"] for j in since] == [later.pk]
    other = ServiceJob.objects.exclude(client=client_anna).get()
    assert client.get(f"/api/core/jobs/{other.pk}/").status_code == 404
    bad = client.get("/api/core/jobs/?since=abc")
    assert bad.status_code == 400 and bad.json()["error"]["fields"]["since"]


@pytest.mark.django_db
def test_the_api_refuses_anonymous_users(client):
    assert client.get("/api/core/jobs/").status_code in (401, 403)
    assert client.post("/api/core/ws-ticket/").status_code in (401, 403)


@pytest.mark.django_db
def test_the_openapi_schema_is_served(client, administrator):
    client.force_login(administrator)
    response = client.get("/api/schema/")
    assert response.status_code == 200 and b"openapi" in response.content


@pytest.mark.django_db
def test_the_portal_login_page_is_real_and_translated(client):
    response = client.get("/portal/", HTTP_ACCEPT_LANGUAGE="pl", follow=True)
    assert response.status_code == 200 and response.redirect_chain[-1][0].startswith("/portal/login/")
    assert b'name="password"' in response.content and b"csrfmiddlewaretoken" in response.content


def _settings_import(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "TESTING")}
    return subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, capture_output=True,
                          text=True, env={**clean, "DJANGO_SETTINGS_MODULE": "hvaccrm.settings", **env}, timeout=60)


def test_production_refuses_to_start_on_an_insecure_secret_key():
    result = _settings_import({"DEBUG": "false", "ALLOWED_HOSTS": "crm.example.pl"})
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_with_empty_allowed_hosts():
    result = _settings_import({"DEBUG": "false", "SECRET_KEY": "x" * 20 + "Kq8#vZ2!pL0@mN5$" + "y" * 20})
    assert result.returncode != 0 and "ALLOWED_HOSTS" in result.stderr


def test_check_deploy_prints_no_warning_with_production_settings():
    env = {"DEBUG": "false", "SECRET_KEY": "k" * 10 + "Zx7#Qp2!rT9@wL4$mN8%" + "v" * 30,
           "ALLOWED_HOSTS": "crm.example.pl", "CSRF_TRUSTED_ORIGINS": "https://crm.example.pl"}
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "TESTING", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                            capture_output=True, text=True, env={**clean, **env}, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr


@pytest.mark.django_db
def test_seed_demo_twice_gives_the_same_counts():
    from django.core.management import call_command

    from hvaccrm.models import Client, Equipment, Site, Technician

    def counts():
        return {m._meta.label: m.objects.count() for m in apps.get_models()
                if m._meta.app_label in ("hvaccrm", "communications", "mapping", "prophecy", "portal")
                and m._meta.model_name not in ("integrationlog", "accessrecord")}

    call_command("seed_demo")
    first = counts()
    assert first["hvaccrm.Client"] >= 300 and first["hvaccrm.Technician"] == 12
    assert Site.objects.filter(district__isnull=True).count() == 0
    assert Equipment.objects.exists() and Technician.objects.values("home_district").distinct().count() >= 10
    call_command("seed_demo")
    assert counts() == first
    assert Client.objects.filter(kind="business").exclude(nip="").count() == Client.objects.filter(kind="business").count()


@pytest.mark.django_db
def test_the_admin_speaks_polish_by_default_and_english_on_request(client, administrator):
    client.force_login(administrator)
    polish = client.get(reverse("admin:hvaccrm_servicejob_changelist")).content.decode()
    assert "zlecen" in polish.lower() and "wyloguj" in polish.lower()
    client.cookies["django_language"] = "en"
    english = client.get(reverse("admin:hvaccrm_servicejob_changelist")).content.decode()
    assert "service job" in english.lower()
