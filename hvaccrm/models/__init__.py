"""The shared schema of the CRM core: every app reads these rows."""

from __future__ import annotations

from hvaccrm.models.access import AccessRecord
from hvaccrm.models.clients import Client, Consent, Equipment, Site
from hvaccrm.models.districts import District
from hvaccrm.models.jobs import JobFeedback, ServiceJob
from hvaccrm.models.maintenance import Agreement, RefrigerantRecord
from hvaccrm.models.outbox import IntegrationLog, IntegrationSwitch
from hvaccrm.models.technicians import Technician

__all__ = [
    "AccessRecord",
    "Agreement",
    "Client",
    "Consent",
    "District",
    "Equipment",
    "IntegrationLog",
    "IntegrationSwitch",
    "JobFeedback",
    "RefrigerantRecord",
    "ServiceJob",
    "Site",
    "Technician",
]
