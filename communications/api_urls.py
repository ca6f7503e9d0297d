from __future__ import annotations

app_name = "communications-api"
urlpatterns: list = []
