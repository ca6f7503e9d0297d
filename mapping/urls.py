from __future__ import annotations

from django.urls import path

from mapping import views

app_name = "mapping"
urlpatterns = [
    path("dispatch/", views.dispatch_map, name="dispatch"),
    path("board/", views.day_board, name="board"),
    path("board/assign/", views.board_assign, name="board_assign"),
    path("board/place/", views.board_place, name="board_place"),
    path("board/replan/", views.board_replan, name="board_replan"),
    path("board/propose/<int:job_id>/", views.board_propose, name="board_propose"),
    path("my-day/", views.my_day, name="my_day"),
    path("my-day/private/", views.my_day_private, name="my_day_private"),
    path("my-day/<int:job_id>/step/", views.my_day_step, name="my_day_step"),
    path("my-day/<int:job_id>/complete/", views.my_day_complete, name="my_day_complete"),
]
