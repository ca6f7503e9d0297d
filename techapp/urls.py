from __future__ import annotations

from django.urls import path

from techapp import views

app_name = "techapp"
urlpatterns = [
    path("", views.day, name="day"),
    path("stops/", views.stops, name="stops"),
    path("jobs/<int:job_id>/", views.job, name="job"),
    path("jobs/<int:job_id>/action/", views.job_action, name="job_action"),
    path("actions/", views.actions_replay, name="actions"),
    path("alerts/", views.alerts, name="alerts"),
    path("shift/", views.shift, name="shift"),
    path("private/", views.private, name="private"),
    path("emergency-sms/", views.emergency_sms, name="emergency_sms"),
    path("notifications/", views.notifications, name="notifications"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="sw"),
]
