from __future__ import annotations

from django.urls import path

from communications import views

app_name = "communications"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:pk>/", views.conversation, name="conversation"),
]
