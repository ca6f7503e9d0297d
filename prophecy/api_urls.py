from __future__ import annotations

app_name = "prophecy-api"
urlpatterns: list = []
