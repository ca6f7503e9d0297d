"""The client's data in the technician app (RODO), registered with the core's registry (order 55).

A device action keeps no free text once answered (messages, reports and decline reasons live in the
rows of the services that applied them, whose apps export and erase them); what remains is the kind,
the job and the answer. Erasure still clears the payloads of the client's jobs' actions, so an
action caught between receipt and answer cannot keep a text behind.
"""

from __future__ import annotations

from typing import Any

from hvaccrm.models import Client
from hvaccrm.privacy import ERASED, ErasureContext, register_privacy
from techapp.models import DeviceAction


def export(*, client: Client) -> dict[str, Any]:
    actions = DeviceAction.objects.filter(job__client=client).order_by("received_at")
    return {"technician_actions_on_your_visits": [
        {"visit": a.job_id, "kind": a.kind, "answered_at": a.applied_at.isoformat() if a.applied_at else None}
        for a in actions]}


def erase(*, client: Client, context: ErasureContext) -> dict[str, int]:
    n = DeviceAction.objects.filter(job_id__in=context.job_ids).update(payload={"erased": ERASED})
    return {"device_actions": n}


register_privacy("techapp", order=55, export=export, erase=erase, covers=("techapp.DeviceAction",))
