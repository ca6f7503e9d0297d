"""The embedded vector store: PostgreSQL holds the vectors (the truth every process shares);
each process keeps a numpy index and refreshes it when the store's version number moves.

Refresh rule: one cheap SELECT of the version row per search. If only upserts happened since the
index was built (same generation), load just the rows written after our version; if a delete
happened (generation moved), reload whole. Writers take the version row's lock in their
transaction, so versions commit in order and "rows with version > mine" never misses one.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime

import numpy as np
from django.db import connection, transaction

from prophecy.engine.index import IndexRow, VectorIndex
from prophecy.engine.lexical import query_terms
from prophecy.models import StoredVector, VectorStoreVersion
from prophecy.stores.base import SearchFilters, SearchHit, VectorRecord, VectorStoreUnavailable

_FIELDS = ("id", "vector", "district", "service_type", "created", "keywords", "version")
_COPY_COLUMNS = ("id", "object_type", "object_id", "vector", "dim", "district", "service_type", "created", "client_id",
                 "text", "keywords", "properties", "version")
COPY_MIN_ROWS = 500


def _version_bump(*, deleted: bool) -> int:
    """Move the version on (and the generation, after a delete); returns the new version.

    One UPDATE ... RETURNING: it takes the row lock until the caller's transaction ends, which
    is what orders concurrent writers.
    """
    table = VectorStoreVersion._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET version = version + 1, generation = generation + %s, updated_at = now() "  # noqa: S608 - our own table name
            "WHERE id = 1 RETURNING version",
            [1 if deleted else 0],
        )
        row = cursor.fetchone()
    if row is not None:
        return row[0]
    VectorStoreVersion.objects.get_or_create(id=1)
    return _version_bump(deleted=deleted)


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


class EmbeddedStore:
    name = "embedded"
    supports_hybrid = True

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._index: VectorIndex | None = None
        self._version = -1
        self._generation: tuple | None = None
        self.available = True  # tests and the health check can mark the store down

    # --- writes -------------------------------------------------------------------------------
    def upsert(self, records: list[VectorRecord]) -> int:
        self._check()
        if not records:
            return 0
        # No savepoint when the caller already holds a transaction (a sync): a failure rolls back
        # the caller's whole unit anyway.
        with transaction.atomic(savepoint=False):
            version = _version_bump(deleted=False)
            if len(records) >= COPY_MIN_ROWS:
                self._upsert_copy(records, version)
                return len(records)
            rows = [
                StoredVector(
                    id=r.id, object_type=r.object_type, object_id=r.object_id,
                    vector=np.asarray(r.vector, dtype=np.float32).tobytes(), dim=len(r.vector),
                    district=r.district or "", service_type=r.service_type or "", created=r.created,
                    client_id=r.client_id, text=r.text, keywords=r.keywords[:64], properties=r.properties,
                    version=version,
                )
                for r in records
            ]
            StoredVector.objects.bulk_create(
                rows, update_conflicts=True, unique_fields=["id"],
                update_fields=["object_type", "object_id", "vector", "dim", "district", "service_type",
                               "created", "client_id", "text", "keywords", "properties", "version"],
                batch_size=1000,
            )
        return len(records)

    @staticmethod
    def _upsert_copy(records: list[VectorRecord], version: int) -> None:
        """Large batches (reindex, imports): COPY into a temporary table, then one
        INSERT ... ON CONFLICT. Several times faster than a multi-row INSERT of bytea values."""
        from psycopg.types.json import Jsonb

        table = StoredVector._meta.db_table
        columns = ", ".join(_COPY_COLUMNS)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _COPY_COLUMNS if c != "id")
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS prophecy_vector_load (LIKE {table}) ON COMMIT DELETE ROWS"
            )
            raw = cursor.cursor
            with raw.copy(f"COPY prophecy_vector_load ({columns}) FROM STDIN") as copy:
                for r in records:
                    copy.write_row((
                        r.id, r.object_type, r.object_id, np.asarray(r.vector, dtype=np.float32).tobytes(),
                        len(r.vector), r.district or "", r.service_type or "", r.created, r.client_id, r.text,
                        list(r.keywords[:64]), Jsonb(r.properties), version,
                    ))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM prophecy_vector_load "  # noqa: S608 - our own names
                f"ON CONFLICT (id) DO UPDATE SET {updates}"
            )
            cursor.execute("DELETE FROM prophecy_vector_load")

    def delete(self, ids: list[uuid.UUID]) -> int:
        self._check()
        if not ids:
            return 0
        with transaction.atomic():
            deleted, _ = StoredVector.objects.filter(id__in=ids).delete()
            if deleted:
                _version_bump(deleted=True)
        return deleted

    def delete_for_client(self, client_id: int) -> int:
        self._check()
        with transaction.atomic():
            deleted, _ = StoredVector.objects.filter(client_id=client_id).delete()
            if deleted:
                _version_bump(deleted=True)
        return deleted

    # --- reads --------------------------------------------------------------------------------
    def _check(self) -> None:
        if not self.available:
            raise VectorStoreUnavailable("embedded vector store marked unavailable")

    def _refresh(self, current: tuple | None = None) -> VectorIndex:
        # The epoch (a uuid made with the row) is part of the key: a version number seen again
        # after the row was recreated (a new database, tests rolled back) must not pass for ours.
        if current is None:
            current = VectorStoreVersion.objects.filter(id=1).values_list("version", "generation", "epoch").first()
        with self._lock:
            version, generation, epoch = current or (0, 0, None)
            key = (epoch, generation)
            if self._index is not None and version == self._version and key == self._generation:
                return self._index
            full = self._index is None or key != self._generation or version < self._version
            qs = StoredVector.objects.all() if full else StoredVector.objects.filter(version__gt=self._version)
            index = VectorIndex(self._index.dim if self._index is not None else 0) if full else self._index
            batch: list[IndexRow] = []
            for id_, vec, district, service, created, keywords, _v in qs.values_list(*_FIELDS).iterator(chunk_size=5000):
                array = np.frombuffer(bytes(vec), dtype=np.float32)
                if index.dim != len(array):
                    if index.size:
                        continue  # a vector of another provider's size: reindex needed, skip it
                    index = VectorIndex(len(array))
                batch.append(IndexRow(str(id_), array, district, service, _ts(created), tuple(keywords)))
                if len(batch) >= 5000:
                    index.upsert(batch)
                    batch = []
            index.upsert(batch)
            self._index, self._version, self._generation = index, version, key
            return index

    def search(self, vector: np.ndarray, *, limit: int = 10, filters: SearchFilters | None = None,
               query_text: str | None = None, alpha: float = 0.7) -> list[SearchHit]:
        """Rank with the index this process holds, then fetch the hits' rows and the store version
        in one query; if the version moved meanwhile, refresh the index and rank again."""
        self._check()
        index = self._index if self._index is not None else self._refresh()
        for _attempt in range(2):
            found = self._rank(index, vector, limit=limit, filters=filters, query_text=query_text, alpha=alpha)
            current, rows = self._fetch([i for i, _ in found])
            version, generation, epoch = current or (0, 0, None)
            if version == self._version and (epoch, generation) == self._generation:
                break
            index = self._refresh(current)
        return [
            SearchHit(id=i, score=round(sc, 4), object_type=r[0], object_id=r[1], text=r[2], district=r[3],
                      service_type=r[4], created=r[5], properties=r[6])
            for i, sc in found
            if (r := rows.get(i)) is not None
        ]

    @staticmethod
    def _rank(index: VectorIndex, vector: np.ndarray, *, limit: int, filters: SearchFilters | None,
              query_text: str | None, alpha: float) -> list[tuple[str, float]]:
        f = filters or SearchFilters()
        if index.dim and len(vector) != index.dim:
            raise VectorStoreUnavailable(f"query has {len(vector)} dimensions, the store {index.dim}")
        window = dict(district=f.district, service_type=f.service_type, created_from=_ts(f.created_from),
                      created_to=_ts(f.created_to))
        if query_text:
            # Hybrid: the vector ranking and BM25 over lemmas + concept tokens, fused by rank
            # (engine/lexical.py says why ranks, not a blend of scores; `alpha` is Weaviate's).
            return index.search_hybrid(vector, query_terms(query_text), limit=limit, pool=max(limit, 100), **window)
        return index.search(vector, limit=limit, **window)

    @staticmethod
    def _fetch(ids: list[str]) -> tuple[tuple | None, dict[str, tuple]]:
        """One round trip: the store's version row and the rows of the given ids."""
        version_table = VectorStoreVersion._meta.db_table
        table = StoredVector._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT v.version, v.generation, v.epoch, s.id, s.object_type, s.object_id, s.text, s.district, "  # noqa: S608 - our own tables
                f"s.service_type, s.created, s.properties FROM {version_table} v "
                f"LEFT JOIN {table} s ON s.id = ANY(%s::uuid[]) WHERE v.id = 1",
                [[uuid.UUID(i) for i in ids]],
            )
            records = cursor.fetchall()
        if not records:
            return None, {}
        current = tuple(records[0][:3])
        rows = {}
        for rec in records:
            if rec[3] is None:
                continue
            props = rec[10]
            rows[str(rec[3])] = (*rec[4:10], json.loads(props) if isinstance(props, str) else (props or {}))
        return current, rows

    def count(self) -> int:
        self._check()
        return StoredVector.objects.count()

    def exists(self, id_: uuid.UUID) -> bool:
        self._check()
        return StoredVector.objects.filter(id=id_).exists()

    def health(self) -> bool:
        if not self.available:
            return False
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return True
        except Exception:  # the database is down: so is this store
            return False

    def reset(self) -> None:
        """Forget the in-memory index (tests; a new database)."""
        with self._lock:
            self._index, self._version, self._generation = None, -1, None
