from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit and integration health")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audit import checks, privacy, seed  # noqa: F401 - registers client data and the demo seeder

        checks.register()
