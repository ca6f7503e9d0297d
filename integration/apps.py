from __future__ import annotations

from django.apps import AppConfig


class IntegrationConfig(AppConfig):
    """The integration service as an app, so its outbox handlers register in every process."""

    name = "integration"
    label = "integration"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from integration.contracts import contracts_register

        contracts_register()  # the outbox handlers and payload checks, in every process
