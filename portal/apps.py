from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Client portal")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from integration.portal import signin_issuer_register
        from portal import privacy, seed, signals  # noqa: F401 - sign-in receiver, client data, demo seeder
        from portal.services import signin_link_issue

        # The sign-in link's outbox handler issues links through this (integration imports no portal).
        signin_issuer_register(signin_link_issue)

