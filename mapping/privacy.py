"""The client's data in mapping (RODO), registered with the core's privacy registry (order 40, before
the core clears the sites' coordinates it needs).

Mapping stores no client row of its own, but a technician's GPS trace at a client's address, next to
the retained visit record, would give the erased client's home back. The erasure therefore deletes
the pings that the client's technicians sent within PING_RADIUS_M of the client's sites. The export
gives the client their visits' planned arrivals, and only the number of those pings: the positions
themselves are the technician's data as well.
"""

from __future__ import annotations

import math
from typing import Any

from django.db.models import Q

from hvaccrm.models import Client, ServiceJob, Site
from hvaccrm.privacy import ErasureContext, register_privacy
from mapping.models import LocationPing, RouteStop

PING_RADIUS_M = 150.0
_M_PER_DEGREE_LAT = 111_320.0


def _pings_at_sites(client: Client):
    """A box of PING_RADIUS_M around each located site (a box, not a circle: over-removes at the corners)."""
    technicians = ServiceJob.objects.filter(client=client, technician__isnull=False).values("technician_id")
    near = Q()
    located = Site.objects.filter(client=client, latitude__isnull=False, longitude__isnull=False)
    for lat, lng in located.values_list("latitude", "longitude"):
        dlat = PING_RADIUS_M / _M_PER_DEGREE_LAT
        dlng = PING_RADIUS_M / (_M_PER_DEGREE_LAT * max(0.1, math.cos(math.radians(lat))))
        near |= Q(latitude__range=(lat - dlat, lat + dlat), longitude__range=(lng - dlng, lng + dlng))
    if not near:
        return LocationPing.objects.none()
    return LocationPing.objects.filter(near, technician_id__in=technicians)


def export(*, client: Client) -> dict[str, Any]:
    stops = RouteStop.objects.filter(job__client=client).order_by("eta", "id")
    return {
        "planned_arrivals": [{"visit": s.job_id, "eta": s.eta.isoformat(), "service_start": s.service_start.isoformat(),
                              "service_end": s.service_end.isoformat()} for s in stops],
        "technician_positions_at_your_sites": _pings_at_sites(client).count(),
    }


def erase(*, client: Client, context: ErasureContext) -> dict[str, int]:
    return {"pings": _pings_at_sites(client).delete()[0]}


register_privacy("mapping", order=40, export=export, erase=erase, covers=("mapping.LocationPing",))
