"""The client's data in prophecy (RODO): the privacy-filtered texts kept for search, their features
and embeddings, and the vectors in the store. Registered with the core's privacy registry (order 30).

What reaches prophecy already went through the privacy filter (`prophecy.engine.privacy`); the texts
are still about the client's visits and messages, so they are exported and erased with the client.
"""

from __future__ import annotations

from typing import Any

from hvaccrm.models import Client
from hvaccrm.privacy import ErasureContext, register_privacy
from prophecy.models import SyncState, TextFeatures
from prophecy.services import vectors_erase_for_client


def export(*, client: Client) -> dict[str, Any]:
    """The filtered texts indexed for search, and the state of each object's sync."""
    texts = TextFeatures.objects.filter(client_id=client.pk).order_by("id")
    states = SyncState.objects.filter(client_id=client.pk).order_by("id")
    return {
        "texts": [{"object": f"{t.object_type}:{t.object_id}", "language": t.language, "text": t.text,
                   "keywords": list(t.keywords), "created": t.created.isoformat() if t.created else None}
                  for t in texts],
        "sync_states": [{"object": f"{s.object_type}:{s.object_id}", "state": s.state,
                         "synced_at": s.synced_at.isoformat() if s.synced_at else None} for s in states],
    }


def erase(*, client: Client, context: ErasureContext) -> dict[str, int]:
    """Every vector, feature row and stored text of the client (in whichever store is configured)."""
    return {"vectors": vectors_erase_for_client(client_id=client.pk)}


register_privacy(
    "prophecy", order=30, export=export, erase=erase,
    covers=("prophecy.TextFeatures", "prophecy.SyncState", "prophecy.StoredVector"),
)
