from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MappingConfig(AppConfig):
    name = "mapping"
    verbose_name = _("Mapping and routes")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from mapping import checks, handlers, privacy, seed  # noqa: F401 - frames, checks, privacy, seeder
