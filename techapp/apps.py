from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TechappConfig(AppConfig):
    name = "techapp"
    verbose_name = _("Technician app")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from techapp import privacy  # noqa: F401 - registers the app's part of export and erasure
