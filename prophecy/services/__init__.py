"""Prophecy's writes: syncing objects into the vector store, erasure, forecasts and hotspots."""

from __future__ import annotations

from prophecy.services.forecast import forecast_run
from prophecy.services.sync import (
    sync_object,
    sync_objects,
    sync_state_forget,
    vectors_erase_for_client,
    vectors_reindex,
)

__all__ = ["forecast_run", "sync_object", "sync_objects", "sync_state_forget", "vectors_erase_for_client",
           "vectors_reindex"]
