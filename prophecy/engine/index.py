"""An exact in-memory vector index (numpy): cosine by one matrix product, filters as masks.

Rows are replaced in place when an id comes back, appended otherwise; the matrix grows by
doubling so a stream of upserts does not copy it each time. Pure numpy, no Django.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_NO_DATE = np.int64(-(2**62))


@dataclass
class IndexRow:
    id: str
    vector: np.ndarray
    district: str = ""
    service_type: str = ""
    created_ts: float | None = None  # seconds since the epoch
    keywords: tuple[str, ...] = ()


class VectorIndex:
    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.size = 0
        self._matrix = np.zeros((0, dim), dtype=np.float32)
        self._district = np.zeros(0, dtype=np.int32)
        self._service = np.zeros(0, dtype=np.int32)
        self._created = np.zeros(0, dtype=np.int64)
        self._alive = np.zeros(0, dtype=bool)
        self.ids: list[str] = []
        self.keywords: list[tuple[str, ...]] = []
        self._pos: dict[str, int] = {}
        self._codes: dict[str, int] = {"": 0}

    def _code(self, value: str) -> int:
        if value not in self._codes:
            self._codes[value] = len(self._codes)
        return self._codes[value]

    def _grow(self, need: int) -> None:
        cap = self._matrix.shape[0]
        if need <= cap:
            return
        new_cap = max(need, cap * 2, 1024)
        for name, fill in (("_matrix", 0.0), ("_district", 0), ("_service", 0), ("_created", 0), ("_alive", False)):
            old = getattr(self, name)
            shape = (new_cap, self.dim) if name == "_matrix" else (new_cap,)
            arr = np.full(shape, fill, dtype=old.dtype)
            arr[: self.size] = old[: self.size]
            setattr(self, name, arr)

    def upsert(self, rows: list[IndexRow]) -> None:
        fresh = [r for r in rows if r.id not in self._pos]
        self._grow(self.size + len(fresh))
        for row in rows:
            pos = self._pos.get(row.id)
            if pos is None:
                pos = self.size
                self.size += 1
                self._pos[row.id] = pos
                self.ids.append(row.id)
                self.keywords.append(row.keywords)
            else:
                self.keywords[pos] = row.keywords
            self._matrix[pos] = row.vector
            self._district[pos] = self._code(row.district)
            self._service[pos] = self._code(row.service_type)
            self._created[pos] = _NO_DATE if row.created_ts is None else int(row.created_ts)
            self._alive[pos] = True

    def remove(self, ids: list[str]) -> int:
        removed = 0
        for id_ in ids:
            pos = self._pos.get(id_)
            if pos is not None and self._alive[pos]:
                self._alive[pos] = False
                removed += 1
        return removed

    def __len__(self) -> int:
        return int(self._alive[: self.size].sum())

    def __contains__(self, id_: str) -> bool:
        pos = self._pos.get(id_)
        return pos is not None and bool(self._alive[pos])

    def _mask(self, district: str | None, service_type: str | None, created_from: float | None,
              created_to: float | None) -> np.ndarray | None:
        mask = None

        def both(m, extra):
            return extra if m is None else m & extra

        if district:
            if district not in self._codes:
                return np.zeros(self.size, dtype=bool)
            mask = both(mask, self._district[: self.size] == self._codes[district])
        if service_type:
            if service_type not in self._codes:
                return np.zeros(self.size, dtype=bool)
            mask = both(mask, self._service[: self.size] == self._codes[service_type])
        if created_from is not None:
            mask = both(mask, self._created[: self.size] >= int(created_from))
        if created_to is not None:
            mask = both(mask, (self._created[: self.size] <= int(created_to)) & (self._created[: self.size] != _NO_DATE))
        return mask

    def search(self, query: np.ndarray, *, limit: int = 10, district: str | None = None,
               service_type: str | None = None, created_from: float | None = None,
               created_to: float | None = None) -> list[tuple[str, float]]:
        """The `limit` nearest rows by cosine (vectors are unit length), best first."""
        if self.size == 0 or limit <= 0:
            return []
        scores = self._matrix[: self.size] @ np.asarray(query, dtype=np.float32)
        valid = self._alive[: self.size]
        mask = self._mask(district, service_type, created_from, created_to)
        if mask is not None:
            valid = valid & mask
        scores = np.where(valid, scores, -np.inf)
        k = min(limit, self.size)
        top = np.argpartition(-scores, k - 1)[:k] if k < self.size else np.arange(self.size)
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top if np.isfinite(scores[i])]
