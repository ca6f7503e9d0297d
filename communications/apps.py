from __future__ import annotations

from django.apps import AppConfig


class CommunicationsConfig(AppConfig):
    name = "communications"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Communications"

    def ready(self) -> None:
        # Registrations: socket frames and the conversation group authoriser, seeder, health check,
        # the client's data (privacy registry).
        from communications import checks, handlers, privacy, seed  # noqa: F401
