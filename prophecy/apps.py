from __future__ import annotations

from django.apps import AppConfig


class ProphecyConfig(AppConfig):
    name = "prophecy"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Prophecy"

    def ready(self) -> None:
        from prophecy import checks, privacy, seed  # noqa: F401 - health check, client data, demo seeder
