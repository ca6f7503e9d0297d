"""Personal data has an owner: each app that holds a client's personal data registers its own
export and erasure here, and the portal runs them all (RODO art. 15, 17 and 20).

The registry follows the seeders (`hvaccrm.seed`): an app's `privacy.py` calls `register_privacy`
when the app is ready, so the core never imports an app. Each registration declares the models it
covers (exports AND erases) and the ones it keeps on erasure for a legal reason; the coverage test
(`hvaccrm/tests/test_privacy.py`) fails when a model with personal data is covered by nobody.

Order of erasure (lowest first), fixed so the apps can read what the core still knows:
    communications 20, prophecy 30, mapping 40, audit 50, portal 60, core 90.
The core runs last because it rewrites the client row, the sites' coordinates, the users and the
copies in the logs; the apps before it read those rows (coordinates, user ids) and add the ids of
their own objects to `ErasureContext.related`, so the core scrubs their copies in the outbox too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

# The one erasure marker, written in place of erased free text by every app (staff notifications,
# the client's messages and alerts alike), so an erased row reads the same everywhere.
ERASED = "[usunięto / removed]"

# Field names that hold personal data wherever they occur (the coverage test reads them): names,
# contact data, addresses and positions, free text a person wrote, network identities.
PERSONAL_FIELD_NAMES = frozenset({
    "name", "first_name", "last_name", "username", "email", "phone", "address", "billing_address",
    "street", "postal_code", "nip", "latitude", "longitude", "ip_address", "user_agent", "body", "text",
    "comment", "description", "notes", "subject", "title", "reason", "label", "payload", "serial_number",
    "session_data", "object_repr", "change_message",
})
PERSONAL_FIELD_SUFFIXES = ("_latitude", "_longitude", "_address", "_phone", "_email")

# Models that refer to a user or hold a field of the list above but are no client's personal data,
# each with the reason. Anything else must be covered by a registered privacy module.
EXEMPT: dict[str, str] = {
    "auth.Permission": "`name` names a permission, not a person",
    "auth.Group": "`name` names a role (dispatcher, technician, client), not a person",
    "hvaccrm.District": "`name` names a Warsaw district (public reference data)",
    "hvaccrm.Technician": "a technician's employee record (staff data under the employment contract); "
                          "no client's data is stored on it",
    "hvaccrm.IntegrationSwitch": "which member of staff switched a subsystem off and why; no client data",
    "communications.AlertDecision": "the routing log of an alert: technician ids, distances, a machine-written "
                                    "reason; the alert's text and position are erased on EmergencyAlert",
    "mapping.DayPlan": "`reason` is the re-planning trigger (a code such as 'booking'), no person",
    "audit.AuditCheckpoint": "a staff-made snapshot of counts; `label` and `created_by` are staff's",
    "pghistory.MiddlewareEvents": "pghistory's read-only database view over the history tables (no table of "
                                  "its own); the job history it shows is erased by the core (ServiceJobEvent)",
}


@dataclass
class ErasureContext:
    """One client's erasure, as known before any row changed. Apps add the ids of their objects that
    carry the client's data to `related` (object type -> ids) so the core scrubs their log copies."""

    client_id: int
    actor: Any
    alias: str
    user_ids: list[int] = field(default_factory=list)
    login_names: list[str] = field(default_factory=list)  # usernames and e-mails, for the lockout tables
    job_ids: list[int] = field(default_factory=list)
    site_ids: list[int] = field(default_factory=list)
    related: dict[str, set[str]] = field(default_factory=dict)

    def relate(self, object_type: str, ids: Iterable[Any]) -> None:
        self.related.setdefault(object_type, set()).update(str(i) for i in ids)


@dataclass(frozen=True)
class PrivacyModule:
    order: int
    name: str
    export: Callable[..., dict[str, Any]]  # export(*, client) -> JSON-ready dict
    erase: Callable[..., dict[str, int]]  # erase(*, client, context) -> counts; idempotent
    covers: tuple[str, ...]  # model labels ("app.Model") it exports and erases
    retains: dict[str, str]  # model labels it exports but keeps on erasure -> the legal reason


_modules: dict[str, PrivacyModule] = {}


def register_privacy(name: str, *, order: int, export: Callable[..., dict[str, Any]],
                     erase: Callable[..., dict[str, int]], covers: Iterable[str],
                     retains: dict[str, str] | None = None) -> None:
    """Called once by each app's privacy.py at import (its AppConfig.ready imports it)."""
    _modules[name] = PrivacyModule(order, name, export, erase, tuple(covers), dict(retains or {}))


def privacy_modules() -> list[PrivacyModule]:
    return sorted(_modules.values(), key=lambda m: (m.order, m.name))


def pseudonym(client_id: int) -> str:
    """The name an erased client keeps on the records the law requires us to retain."""
    return f"anon-{client_id}"


def client_export_all(*, client) -> dict[str, dict[str, Any]]:
    """Every app's export of one client, by app name."""
    return {m.name: m.export(client=client) for m in privacy_modules()}


def client_erase_all(*, client, context: ErasureContext) -> dict[str, dict[str, int]]:
    """Every app's erasure of one client, in the registry's order; the caller holds the transaction."""
    return {m.name: m.erase(client=client, context=context) for m in privacy_modules()}
