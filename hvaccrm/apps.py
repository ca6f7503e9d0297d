from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class HvaccrmConfig(AppConfig):
    name = "hvaccrm"
    verbose_name = _("CRM core")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registrations: health checks, the core's seeder and its part of a client's personal data.
        from hvaccrm import checks, privacy_core, seed_core, seed_maintenance  # noqa: F401
        from hvaccrm.services.bootstrap import bootstrap_after_migrate

        post_migrate.connect(bootstrap_after_migrate)
