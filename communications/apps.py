from __future__ import annotations

from django.apps import AppConfig


class CommunicationsConfig(AppConfig):
    name = "communications"
    default_auto_field = "django.db.models.BigAutoField"
