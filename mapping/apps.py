from __future__ import annotations

from django.apps import AppConfig


class MappingConfig(AppConfig):
    name = "mapping"
    default_auto_field = "django.db.models.BigAutoField"
