from __future__ import annotations

app_name = "mapping-api"
urlpatterns: list = []
