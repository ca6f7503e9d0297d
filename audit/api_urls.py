from __future__ import annotations

app_name = "audit-api"
urlpatterns: list = []
