"""The vector store backends, chosen by settings.VECTOR_STORE_BACKEND ("embedded" or "weaviate")."""

from __future__ import annotations

import threading

from prophecy import conf
from prophecy.stores.base import (
    SearchFilters,
    SearchHit,
    VectorRecord,
    VectorStore,
    VectorStoreUnavailable,
    vector_id_for,
)

__all__ = ["SearchFilters", "SearchHit", "VectorRecord", "VectorStore", "VectorStoreUnavailable", "store_get",
           "store_reset", "vector_id_for"]

_stores: dict[str, VectorStore] = {}
_lock = threading.Lock()


def store_get(backend: str | None = None) -> VectorStore:
    """The process's store for the configured (or named) backend."""
    name = backend or conf.vector_store_backend()
    with _lock:
        if name not in _stores:
            if name == "embedded":
                from prophecy.stores.embedded import EmbeddedStore

                _stores[name] = EmbeddedStore()
            elif name == "weaviate":
                from prophecy.stores.weaviate import WeaviateStore

                _stores[name] = WeaviateStore.from_settings()
            else:
                raise ValueError(f"unknown vector store backend {name!r}")
        return _stores[name]


def store_reset() -> None:
    """Drop the process's stores (tests; after settings change)."""
    with _lock:
        for store in _stores.values():
            close = getattr(store, "close", None)
            if close:
                close()
        _stores.clear()
