from __future__ import annotations

from django.urls import path

from integration import views

app_name = "integration"
urlpatterns = [
    path("new-job/", views.new_job, name="new_job"),
    path("new-job/locate/", views.locate, name="locate"),
    path("slots/<int:proposal_id>/take/", views.take_slot, name="take_slot"),
]
