from __future__ import annotations

from django.apps import AppConfig


class ProphecyConfig(AppConfig):
    name = "prophecy"
    default_auto_field = "django.db.models.BigAutoField"
