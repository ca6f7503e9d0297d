"""The portal's own rows about a client (RODO): sign-in links, sessions, bookings' preferred windows
and erasure requests. Registered with the core's privacy registry (order 60)."""

from __future__ import annotations

from typing import Any

from hvaccrm.models import Client
from hvaccrm.privacy import ErasureContext, register_privacy
from portal.models import Booking, ErasureRequest, LoginLink, PortalSession
from portal.services import session_end_all


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def export(*, client: Client) -> dict[str, Any]:
    """Preferred windows by visit, the erasure requests, and the portal sessions (when, not the key)."""
    users = client.users.values("pk")
    return {
        "preferred_windows": {b.job_id: b.windows for b in Booking.objects.filter(job__client=client)},
        "erasure_requests": [
            {"state": r.state, "requested_at": _iso(r.requested_at), "executed_at": _iso(r.executed_at)}
            for r in ErasureRequest.objects.filter(client_id=client.pk).order_by("requested_at")
        ],
        "sessions": [{"signed_in_at": _iso(s.created_at)}
                     for s in PortalSession.objects.filter(user__in=users).order_by("created_at")],
    }


def erase(*, client: Client, context: ErasureContext) -> dict[str, int]:
    """Every session of the client's logins ends (all devices), sign-in links go, the preferred windows
    and the free-text notes of erasure requests are cleared (the requests stay as proof)."""
    sessions = sum(session_end_all(user=user) for user in client.users.all())
    links = LoginLink.objects.filter(user_id__in=context.user_ids).delete()[0]
    windows = Booking.objects.filter(job__client_id=client.pk).exclude(windows=[]).update(windows=[])
    ErasureRequest.objects.filter(client_id=client.pk).exclude(reason="").update(reason="")
    return {"sessions": sessions, "login_links": links, "booking_windows": windows}


register_privacy(
    "portal", order=60, export=export, erase=erase,
    covers=("portal.LoginLink", "portal.PortalSession", "portal.Booking", "sessions.Session"),
    retains={"portal.ErasureRequest": "proof that the request was carried out (GDPR art. 5(2) and 17); "
                                      "the client's note is cleared"},
)
