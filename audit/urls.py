from __future__ import annotations

from django.urls import path

from audit import views

app_name = "audit"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("health.json", views.health_json, name="health_json"),
    path("report/", views.report, name="report"),
    path("consistency/", views.consistency, name="consistency"),
    path("switches/<str:target>/", views.switch_set, name="switch_set"),
    path("checkpoints/", views.checkpoints, name="checkpoints"),
    path("access-trail/", views.access_trail, name="access_trail"),
    path("trends/", views.trends, name="trends"),
    # Also served at /metrics (hvaccrm/urls.py), where Prometheus scrapes it.
    path("metrics", views.metrics, name="metrics"),
]
