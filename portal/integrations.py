"""The erasure's calls into communications and prophecy, until the core's privacy registry runs
each app's own export and erasure (issue 10, item 3). Everything else the portal asks of the
subsystems goes through `integration.portal`.
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any

logger = logging.getLogger(__name__)


def _function(module: str, name: str):
    return getattr(import_module(module), name)


def communications_export(*, client_id: int) -> dict[str, Any]:
    fn = _function("communications.selectors", "client_data_export")
    return fn(client_id=client_id)


def communications_anonymise(*, client_id: int) -> int | None:
    fn = _function("communications.services", "client_data_anonymise")
    return fn(client_id=client_id)


def communications_notifications_scrub(*, client_id: int, job_ids: list[int], message_ids: list[int]) -> int:
    """Staff and technicians' notifications about this client's alerts, jobs or messages carry the
    client's words (an emergency alert's text, a booking's description). communications'
    client_data_anonymise covers the client's own notifications only; until it covers these too,
    the erasure clears them here (title and body; the row stays for delivery statistics)."""
    models = import_module("communications.models")
    from django.db.models import Q

    alerts = list(models.EmergencyAlert.objects.filter(
        Q(message__conversation__client_id=client_id) | Q(job__client_id=client_id)).values_list("pk", flat=True))
    related = (Q(related_type="communications.emergencyalert", related_id__in=[str(a) for a in alerts])
               | Q(related_type="hvaccrm.servicejob", related_id__in=[str(j) for j in job_ids])
               | Q(related_type="communications.message", related_id__in=[str(m) for m in message_ids]))
    marker = getattr(import_module("communications.services"), "ERASED", "[erased]")
    return models.Notification.objects.filter(related).exclude(body=marker).update(title=marker, body=marker, payload={})


def vectors_erase(*, client_id: int) -> int | None:
    fn = _function("prophecy.services", "vectors_erase_for_client")
    return fn(client_id=client_id)
