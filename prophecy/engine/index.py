"""An in-memory vector index (numpy): cosine by matrix products, filters as masks.

Small indexes are searched exactly. From IVF_MIN_ROWS rows on, an inverted-file layer is trained
(spherical k-means on a sample): a query scores the centroids, then only the rows of the
`nprobe` nearest lists plus the rows written since training; it is retrained when the index has
doubled. Its recall@10 against exact search is measured by the bench. A filter that leaves too
few candidates falls back to exact search over the filtered rows.

Rows are replaced in place when an id comes back, appended otherwise; the matrix grows by
doubling so a stream of upserts does not copy it each time. Pure numpy, no Django.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from prophecy.engine.lexical import (
    LEXICAL_WEIGHT,
    RRF_K,
    VECTOR_WEIGHT,
    Bm25,
    coverage_rerank,
    is_concept,
    rrf_fuse,
    top_positions,
)

_NO_DATE = np.int64(-(2**62))
IVF_MIN_ROWS = 20_000
IVF_NPROBE = 8


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
        self._centroids: np.ndarray | None = None
        self._lists: list[tuple[int, int]] = []
        self._trained_size = 0
        self._stale: set[int] = set()  # rows changed since training: always scanned
        self.nprobe = IVF_NPROBE
        # Lexical side of hybrid search: BM25 over each row's keywords (lemmas + concept tokens).
        self.bm25 = Bm25()

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
                if pos < self._trained_size:
                    self._stale.add(pos)
            self._matrix[pos] = row.vector
            self._district[pos] = self._code(row.district)
            self._service[pos] = self._code(row.service_type)
            self._created[pos] = _NO_DATE if row.created_ts is None else int(row.created_ts)
            self._alive[pos] = True
            self.bm25.set(pos, row.keywords)

    # --- the inverted-file layer ---------------------------------------------------------------
    def ivf_ready(self) -> bool:
        return self._centroids is not None

    def ivf_train(self, *, seed: int = 0, iterations: int = 6) -> None:
        """Spherical k-means on a sample, then every row assigned to its nearest centroid."""
        n = self.size
        nlist = max(16, int(np.sqrt(n)))
        rng = np.random.default_rng(seed)
        sample = self._matrix[rng.choice(n, size=min(n, nlist * 40), replace=False)]
        centroids = sample[rng.choice(len(sample), size=nlist, replace=False)].copy()
        for _ in range(iterations):
            assign = np.argmax(sample @ centroids.T, axis=1)
            sums = np.zeros_like(centroids)
            np.add.at(sums, assign, sample)
            empty = np.linalg.norm(sums, axis=1) == 0
            sums[empty] = sample[rng.choice(len(sample), size=int(empty.sum()), replace=False)]
            centroids = sums / np.linalg.norm(sums, axis=1, keepdims=True)
        assign_all = np.empty(n, dtype=np.int32)
        for start in range(0, n, 20_000):
            stop = min(n, start + 20_000)
            assign_all[start:stop] = np.argmax(self._matrix[start:stop] @ centroids.T, axis=1)
        order = np.argsort(assign_all, kind="stable")
        bounds = np.searchsorted(assign_all[order], np.arange(nlist + 1))
        # Reorder the rows so every list is one contiguous block: a probe is then a slice and a
        # product, with no gather copy.
        for name in ("_matrix", "_district", "_service", "_created", "_alive"):
            arr = getattr(self, name)
            arr[:n] = arr[order]
        self.ids = [self.ids[i] for i in order]
        self.keywords = [self.keywords[i] for i in order]
        self._pos = {id_: i for i, id_ in enumerate(self.ids)}
        self.bm25 = Bm25()
        for pos in range(n):
            if self._alive[pos]:
                self.bm25.set(pos, self.keywords[pos])
        self._lists = [(int(bounds[i]), int(bounds[i + 1])) for i in range(nlist)]
        self._centroids = centroids.astype(np.float32)
        self._trained_size = n
        self._stale = set()

    def _probe(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions and scores of the rows in the nearest lists (and of rows changed since)."""
        probes = np.argpartition(-(self._centroids @ query), self.nprobe)[: self.nprobe]
        ranges = [self._lists[i] for i in probes if self._lists[i][1] > self._lists[i][0]]
        if self.size > self._trained_size:
            ranges.append((self._trained_size, self.size))
        positions = [np.arange(a, b) for a, b in ranges]
        scores = [self._matrix[a:b] @ query for a, b in ranges]
        if self._stale:
            extra = np.fromiter(self._stale, dtype=np.int64)
            positions.append(extra)
            scores.append(self._matrix[extra] @ query)
        return np.concatenate(positions), np.concatenate(scores)

    def remove(self, ids: list[str]) -> int:
        removed = 0
        for id_ in ids:
            pos = self._pos.get(id_)
            if pos is not None and self._alive[pos]:
                self._alive[pos] = False
                self.bm25.remove(pos)
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
               created_to: float | None = None, exact: bool = False) -> list[tuple[str, float]]:
        """The `limit` nearest rows by cosine (vectors are unit length), best first."""
        if self.size == 0 or limit <= 0:
            return []
        query = np.asarray(query, dtype=np.float32)
        if self.size >= IVF_MIN_ROWS and (self._centroids is None or self.size >= 2 * self._trained_size):
            self.ivf_train()
        mask = self._mask(district, service_type, created_from, created_to)
        if not exact and self._centroids is not None:
            cand, scores = self._probe(query)
            valid = self._alive[cand] if mask is None else self._alive[cand] & mask[cand]
            cand, scores = cand[valid], scores[valid]
            if len(cand) >= limit:
                k = min(limit, len(cand))
                top = np.argpartition(-scores, k - 1)[:k]
                top = top[np.argsort(-scores[top])]
                return [(self.ids[cand[i]], float(scores[i])) for i in top]
            if mask is not None:
                # A selective filter: exact search over the filtered rows only.
                rows = np.flatnonzero(mask & self._alive[: self.size])
                if len(rows) == 0:
                    return []
                scores = self._matrix[rows] @ query
                k = min(limit, len(rows))
                top = np.argpartition(-scores, k - 1)[:k]
                top = top[np.argsort(-scores[top])]
                return [(self.ids[rows[i]], float(scores[i])) for i in top]
        scores = self._matrix[: self.size] @ query
        valid = self._alive[: self.size]
        if mask is not None:
            valid = valid & mask
        scores = np.where(valid, scores, -np.inf)
        k = min(limit, self.size)
        top = np.argpartition(-scores, k - 1)[:k] if k < self.size else np.arange(self.size)
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top if np.isfinite(scores[i])]

    def search_hybrid(self, query: np.ndarray, terms: dict[str, float], *, limit: int = 10, pool: int = 100,
                      district: str | None = None, service_type: str | None = None,
                      created_from: float | None = None, created_to: float | None = None,
                      exact: bool = False) -> list[tuple[str, float]]:
        """The vector ranking and the BM25 ranking (each its first `pool`, same filters), fused by
        reciprocal rank, the head re-ordered by concept coverage (engine/lexical.py); score = the
        fused score over the best possible one (plus the coverage in the head)."""
        if self.size == 0 or limit <= 0:
            return []
        by_vector = [i for i, _ in self.search(query, limit=pool, district=district, service_type=service_type,
                                               created_from=created_from, created_to=created_to, exact=exact)]
        mask = self._mask(district, service_type, created_from, created_to)
        valid = self._alive[: self.size] if mask is None else self._alive[: self.size] & mask
        lexical = self.bm25.scores(terms, size=self.size)
        by_words = [self.ids[p] for p in top_positions(lexical, limit=pool, valid=valid)]
        fused = rrf_fuse([by_vector, by_words], weights=[VECTOR_WEIGHT, LEXICAL_WEIGHT])
        concepts = {t for t in terms if is_concept(t)}
        best = (VECTOR_WEIGHT + LEXICAL_WEIGHT) / (RRF_K + 1)
        return coverage_rerank(fused, query_concepts=concepts, keywords_of=lambda id_: self.keywords[self._pos[id_]],
                               best=best)[:limit]
