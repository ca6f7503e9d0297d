"""The URL map: admin (office staff and audit dashboard), portal, app pages, API, socket tickets."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog
from django_otp.admin import OTPAdminSite
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from audit import views as audit_views
from hvaccrm import api, register_views, views


def _admin_autodiscover() -> None:
    """Import every installed app's admin module except leaflet's (it needs GDAL)."""
    from importlib import import_module
    from importlib.util import find_spec

    from django.apps import apps

    for config in apps.get_app_configs():
        if config.name == "leaflet":
            continue
        module = f"{config.name}.admin"
        if find_spec(module) is not None:
            import_module(module)


_admin_autodiscover()

if settings.STAFF_OTP_REQUIRED:
    # Staff sign in to the admin with a password and a TOTP code (django-otp).
    admin.site.__class__ = OTPAdminSite
admin.site.site_header = _("HVAC CRM: office")
admin.site.site_title = _("HVAC CRM")
admin.site.index_title = _("Office and audit dashboard")
# The office's home: today's counts and the office's pages above the models (audit/office.py).
admin.site.index_template = "admin/office_index.html"

router = DefaultRouter()
router.include_root_view = False
router.register("jobs", api.JobViewSet, basename="job")

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Prometheus metrics (staff session or METRICS_TOKEN); the wiring may import what it wires.
    path("metrics", audit_views.metrics, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    # Before the admin's own URLs, whose catch-all would answer 404 for these.
    path("admin/sent-emails/", views.sent_emails, name="sent-emails"),
    path("admin/sent-emails/<str:key>/", views.sent_email, name="sent-email"),
    path("admin/fgas-register/", register_views.maintenance_report, name="maintenance-report"),
    path("admin/fgas-register.csv", register_views.register_csv, name="fgas-register-csv"),
    path("admin/fgas-register/<int:equipment_id>/", register_views.register_card, name="fgas-register-card"),
    # The audit dashboard lives in the admin; its old addresses redirect there (query kept).
    path("admin/audit/", include("audit.urls")),
    path("admin/office/", include("integration.urls")),
    re_path(r"^audit/(?P<rest>.*)$", RedirectView.as_view(url="/admin/audit/%(rest)s", query_string=True)),
    path("admin/", admin.site.urls),
    path("portal/", include("portal.urls")),
    path("tech/", include("techapp.urls")),
    path("communications/", include("communications.urls")),
    path("mapping/", include("mapping.urls")),
    path("prophecy/", include("prophecy.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/auth/login/", api.TokenLoginView.as_view(), name="knox_login"),
    path("api/auth/logout/", api.TokenLogoutView.as_view(), name="knox_logout"),
    path("api/auth/logoutall/", api.TokenLogoutAllView.as_view(), name="knox_logoutall"),
    path("api/core/", include(router.urls)),
    path("api/core/ws-ticket/", api.WsTicketView.as_view(), name="ws-ticket"),
    path("api/communications/", include("communications.api_urls")),
    path("api/mapping/", include("mapping.api_urls")),
    path("api/prophecy/", include("prophecy.api_urls")),
    path("api/audit/", include("audit.api_urls")),
    path("api/portal/", include("portal.api_urls")),
]
