"""The client's data in audit (RODO), registered with the core's privacy registry (order 50, after
communications has related the client's messages and alerts to the erasure).

Audit keeps its own rows about other apps' objects: a repair record of one of the client's jobs or
messages may carry, in its result, what the repair found. The record stays (who repaired what, and
whether it worked, is the controller's accountability); its result is cleared.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from audit.models import RepairRecord
from hvaccrm.models import Client, ServiceJob, Site
from hvaccrm.privacy import ErasureContext, register_privacy


def _client_objects(client: Client, related: dict[str, set[str]] | None = None) -> dict[str, set[str]]:
    objects = {
        "hvaccrm.client": {str(client.pk)},
        "hvaccrm.servicejob": {str(pk) for pk in ServiceJob.objects.filter(client=client).values_list("pk", flat=True)},
        "hvaccrm.site": {str(pk) for pk in Site.objects.filter(client=client).values_list("pk", flat=True)},
    }
    for object_type, ids in (related or {}).items():
        objects.setdefault(object_type, set()).update(ids)
    return objects


def _repairs(objects: dict[str, set[str]]):
    about = Q(pk__in=[])
    for object_type, ids in objects.items():
        about |= Q(object_type=object_type, object_id__in=sorted(ids))
    return RepairRecord.objects.filter(about)


def export(*, client: Client) -> dict[str, Any]:
    """Repairs made to the client's row, sites and visits."""
    return {"repairs": [
        {"time": r.created_at.isoformat(), "object": f"{r.object_type}:{r.object_id}", "finding": r.kind,
         "action": r.action, "succeeded": r.ok, "result": r.result}
        for r in _repairs(_client_objects(client)).order_by("created_at", "id")
    ]}


def erase(*, client: Client, context: ErasureContext) -> dict[str, int]:
    repairs = _repairs(_client_objects(client, context.related)).exclude(result={})
    return {"repair_results_cleared": repairs.update(result={})}


register_privacy("audit", order=50, export=export, erase=erase, covers=("audit.RepairRecord",))
