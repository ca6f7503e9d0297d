from __future__ import annotations

from django.urls import path

from prophecy import views

app_name = "prophecy"
urlpatterns = [
    path("search/", views.search, name="search"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("district/<slug:slug>/", views.district, name="district"),
]
