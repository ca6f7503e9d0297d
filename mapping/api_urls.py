from __future__ import annotations

from django.urls import path

from mapping import api

app_name = "mapping-api"
urlpatterns = [
    path("districts.geojson", api.DistrictsGeoJSONView.as_view(), name="districts-geojson"),
    path("technicians.geojson", api.TechniciansGeoJSONView.as_view(), name="technicians-geojson"),
    path("jobs.geojson", api.JobsGeoJSONView.as_view(), name="jobs-geojson"),
    path("plan/", api.PlanView.as_view(), name="plan"),
    path("pings/", api.PingView.as_view(), name="pings"),
    path("private-mode/", api.PrivateModeView.as_view(), name="private-mode"),
]
