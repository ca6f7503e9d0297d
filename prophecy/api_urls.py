from __future__ import annotations

from django.urls import path

from prophecy import api

app_name = "prophecy-api"
urlpatterns = [
    path("search/", api.SearchView.as_view(), name="search"),
    path("hotspots.geojson", api.HotspotsView.as_view(), name="hotspots"),
]
