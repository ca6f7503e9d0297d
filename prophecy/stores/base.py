"""The vector store interface every backend implements, and the records it moves."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import numpy as np

# Fixed namespace: the same object always gets the same vector id in every backend and process,
# so a retried sync overwrites instead of duplicating.
VECTOR_NAMESPACE = uuid.UUID("5b0c7a52-3d0e-4f43-9a37-6c1f2d7e8a11")


def vector_id_for(*, object_type: str, object_id: str) -> uuid.UUID:
    return uuid.uuid5(VECTOR_NAMESPACE, f"{object_type}:{object_id}")


class VectorStoreUnavailable(RuntimeError):
    """The backend cannot be reached or refused the request (after its retries)."""


@dataclass
class VectorRecord:
    id: uuid.UUID
    vector: np.ndarray
    object_type: str
    object_id: str
    text: str
    district: str = ""
    service_type: str = ""
    created: datetime | None = None
    client_id: int | None = None
    keywords: list[str] = field(default_factory=list)
    properties: dict = field(default_factory=dict)


@dataclass
class SearchHit:
    id: str
    score: float
    object_type: str
    object_id: str
    text: str
    district: str
    service_type: str
    created: datetime | None
    properties: dict = field(default_factory=dict)


@dataclass
class SearchFilters:
    district: str | None = None
    service_type: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


class VectorStore(Protocol):
    name: str
    supports_hybrid: bool

    def upsert(self, records: list[VectorRecord]) -> int: ...

    def delete(self, ids: list[uuid.UUID]) -> int: ...

    def delete_for_client(self, client_id: int) -> int: ...

    def search(self, vector: np.ndarray, *, limit: int = 10, filters: SearchFilters | None = None,
               query_text: str | None = None, alpha: float = 0.7) -> list[SearchHit]: ...

    def count(self) -> int: ...

    def exists(self, id_: uuid.UUID) -> bool: ...

    def health(self) -> bool: ...
