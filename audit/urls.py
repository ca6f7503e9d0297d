"""The audit pages, mounted inside the admin (/admin/audit/, hvaccrm/urls.py): each view goes through
the admin's own gate (admin_view: a signed-in, active staff member, OTP-verified where required, never
cached) and then its role check (audit.views.audit_staff; who may use which in docs/office.md).
The Prometheus endpoint is left ungated: it takes a token (METRICS_TOKEN)."""

from __future__ import annotations

from functools import wraps

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import path

from audit import views

app_name = "audit"


def _admin(view):
    gated = admin.site.admin_view(view)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        # A signed-in client or technician is refused (403) rather than sent to the admin's login.
        if request.user.is_authenticated and not request.user.is_staff:
            raise PermissionDenied
        return gated(request, *args, **kwargs)

    return wrapper


urlpatterns = [
    path("", _admin(views.dashboard), name="dashboard"),
    path("health.json", _admin(views.health_json), name="health_json"),
    path("report/", _admin(views.report), name="report"),
    path("consistency/", _admin(views.consistency), name="consistency"),
    path("switches/<str:target>/", _admin(views.switch_set), name="switch_set"),
    path("checkpoints/", _admin(views.checkpoints), name="checkpoints"),
    path("access-trail/", _admin(views.access_trail), name="access_trail"),
    path("trends/", _admin(views.trends), name="trends"),
    # Also served at /metrics (hvaccrm/urls.py), where Prometheus scrapes it.
    path("metrics", views.metrics, name="metrics"),
]
