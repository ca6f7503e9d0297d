"""The production security baseline (SECURITY-TEST-PLAN A.1-A.2), checked in a subprocess that
loads the settings exactly as production does (DEBUG off, real secrets from the environment)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROD_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "p" * 10 + "Zx7#Qp2!rT9@wL4$mN8%" + "q" * 30,
    "ALLOWED_HOSTS": "crm.example.pl",
    "CSRF_TRUSTED_ORIGINS": "https://crm.example.pl",
    "STATIC_MANIFEST": "false",  # no collectstatic in the test run
}
SCRIPT = r"""
import json, django
django.setup()
from django.conf import settings
from django.test import Client
c = Client()
out = {}
for path in ["/portal/login/", "/admin/login/"]:
    r = c.get(path, secure=True, HTTP_HOST="crm.example.pl")
    out[path] = {"status": r.status_code, "headers": dict(r.headers), "cookies": {k: dict(v) for k, v in r.cookies.items()}}
r = c.get("/portal/login/", secure=True, HTTP_HOST="evil.example")
out["evil"] = r.status_code
out["renderers"] = settings.REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"]
out["silenced"] = list(getattr(settings, "SILENCED_SYSTEM_CHECKS", []))
out["otp_admin"] = __import__("django.contrib.admin", fromlist=["site"]).site.__class__.__name__
out["admin_login_has_otp_field"] = 'name="otp_token"' in c.get("/admin/login/", secure=True, HTTP_HOST="crm.example.pl").content.decode()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def prod():
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "TESTING", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(PROD_ENV)
    env["DJANGO_SETTINGS_MODULE"] = "hvaccrm.settings"
    # The admin's site class is switched when the URLconf loads; resolve it first.
    script = SCRIPT.replace("django.setup()", "django.setup()\nimport hvaccrm.urls")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("path", ["/portal/login/", "/admin/login/"])
def test_pages_carry_the_security_headers_in_production(prod, path):
    page = prod[path]
    assert page["status"] == 200
    h = {k.lower(): v for k, v in page["headers"].items()}
    assert "max-age=31536000" in h["strict-transport-security"] and "includeSubDomains" in h["strict-transport-security"]
    assert h["x-content-type-options"] == "nosniff"
    csp = h["content-security-policy"]
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert h["referrer-policy"] and h["cross-origin-opener-policy"] == "same-origin"
    assert h["x-frame-options"] == "DENY"


def test_the_csrf_cookie_is_secure_in_production(prod):
    cookies = prod["/portal/login/"]["cookies"]
    assert cookies["csrftoken"]["secure"] is True
    assert cookies["csrftoken"]["samesite"] == "Lax"


def test_an_unknown_host_is_refused_with_400(prod):
    assert prod["evil"] == 400


def test_the_api_renders_json_only_and_no_check_is_silenced(prod):
    assert prod["renderers"] == ["rest_framework.renderers.JSONRenderer"]
    assert prod["silenced"] == []


def test_staff_need_a_second_factor_in_production(prod):
    assert prod["otp_admin"] == "OTPAdminSite"
    assert prod["admin_login_has_otp_field"] is True
