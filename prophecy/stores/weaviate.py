"""The Weaviate backend (weaviate-client v4): REST for schema, readiness and existence, gRPC for
batch import, search, delete and counts. We bring our own vectors (no vectorizer module).

Every call runs with the configured timeouts and is retried (short exponential backoff) on
connection errors and timeouts; after the last try it raises VectorStoreUnavailable, which the
search falls back from and the outbox retries. The API key comes from the environment and is
never logged: only the host is.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlparse

import numpy as np

from prophecy import conf
from prophecy.engine.lexical import coverage_rerank, is_concept, query_concepts, query_expanded_text
from prophecy.stores.base import SearchFilters, SearchHit, VectorRecord, VectorStoreUnavailable

logger = logging.getLogger(__name__)
T = TypeVar("T")
VECTOR_NAME = "default"
# Weaviate's ranked fusion scores alpha / (60 + rank) + (1 - alpha) / (60 + rank): at best 1 / 61.
RANKED_FUSION_BEST = 1.0 / 61


def schema_properties() -> list:
    """The collection's properties (the schema the migrate command creates and extends)."""
    from weaviate.classes.config import DataType, Property, Tokenization

    return [
        Property(name="object_type", data_type=DataType.TEXT, tokenization=Tokenization.FIELD),
        Property(name="object_id", data_type=DataType.TEXT, tokenization=Tokenization.FIELD),
        Property(name="district", data_type=DataType.TEXT, tokenization=Tokenization.FIELD),
        Property(name="service_type", data_type=DataType.TEXT, tokenization=Tokenization.FIELD),
        Property(name="created", data_type=DataType.DATE),
        Property(name="client_id", data_type=DataType.INT),
        Property(name="text", data_type=DataType.TEXT, tokenization=Tokenization.WORD),
        Property(name="keywords", data_type=DataType.TEXT_ARRAY, tokenization=Tokenization.WORD),
        Property(name="extra", data_type=DataType.TEXT, index_filterable=False, index_searchable=False),
    ]


class WeaviateStore:
    name = "weaviate"
    supports_hybrid = True

    def __init__(self, *, url: str, api_key: str = "", grpc_port: int | None = None, collection: str | None = None,
                 timeout: float | None = None, retries: int | None = None) -> None:
        parsed = urlparse(url)
        self.http_host = parsed.hostname or "127.0.0.1"
        self.http_secure = parsed.scheme == "https"
        self.http_port = parsed.port or (443 if self.http_secure else 80)
        self.grpc_port = grpc_port or conf.WEAVIATE_GRPC_PORT
        self.collection_name = collection or conf.WEAVIATE_COLLECTION
        self.timeout = timeout if timeout is not None else conf.WEAVIATE_TIMEOUT_S
        self.retries = retries if retries is not None else conf.WEAVIATE_RETRIES
        self._api_key = api_key
        self._client = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls) -> WeaviateStore:
        url = conf.weaviate_url()
        if not url:
            raise VectorStoreUnavailable("WEAVIATE_URL is not set")
        return cls(url=url, api_key=conf.weaviate_api_key())

    def __repr__(self) -> str:  # never show the key
        return f"WeaviateStore({self.http_host}:{self.http_port}, grpc {self.grpc_port}, {self.collection_name})"

    # --- connection ---------------------------------------------------------------------------
    def _connect(self):
        import weaviate
        from weaviate.classes.init import AdditionalConfig, Auth, Timeout

        with self._lock:
            if self._client is None:
                logger.info("connecting to Weaviate at %s:%s", self.http_host, self.http_port)
                self._client = weaviate.connect_to_custom(
                    http_host=self.http_host, http_port=self.http_port, http_secure=self.http_secure,
                    grpc_host=self.http_host, grpc_port=self.grpc_port, grpc_secure=self.http_secure,
                    auth_credentials=Auth.api_key(self._api_key) if self._api_key else None,
                    additional_config=AdditionalConfig(
                        timeout=Timeout(init=self.timeout, query=self.timeout, insert=self.timeout * 4)
                    ),
                    # The client's start-up checks also ask PyPI for a newer client version: our
                    # servers make no such outbound call. Readiness is checked by health().
                    skip_init_checks=True,
                )
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                try:
                    self._client.close()
                finally:
                    self._client = None

    def _call(self, what: str, fn: Callable[[Any], T]) -> T:
        """Run fn(collection) with retries on transport errors; raise VectorStoreUnavailable."""
        from weaviate.exceptions import (
            UnexpectedStatusCodeError,
            WeaviateBaseError,
            WeaviateConnectionError,
            WeaviateQueryError,
            WeaviateTimeoutError,
        )

        transient = (WeaviateConnectionError, WeaviateTimeoutError, WeaviateQueryError, ConnectionError,
                     TimeoutError)
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            try:
                client = self._connect()
                return fn(client.collections.use(self.collection_name))
            except transient as exc:
                last = exc
                logger.warning("weaviate %s failed (attempt %s/%s): %s", what, attempt + 1, self.retries + 1,
                               type(exc).__name__)
                self.close()
                if attempt < self.retries:
                    time.sleep(min(2.0, 0.1 * 2**attempt))
            except (UnexpectedStatusCodeError, WeaviateBaseError) as exc:
                raise VectorStoreUnavailable(f"weaviate {what}: {type(exc).__name__}: {exc}") from exc
        raise VectorStoreUnavailable(f"weaviate {what} failed after {self.retries + 1} tries: {last}") from last

    # --- schema ---------------------------------------------------------------------------------
    def schema_migrate(self) -> dict:
        """Create the collection, or add the properties it lacks; returns what was done."""
        from weaviate.classes.config import Configure, VectorDistances

        def run(_collection) -> dict:
            client = self._connect()
            if not client.collections.exists(self.collection_name):
                client.collections.create(
                    self.collection_name,
                    description="HVAC messages, jobs and feedback (privacy-filtered) with our own vectors",
                    vector_config=Configure.Vectors.self_provided(
                        name=VECTOR_NAME,
                        vector_index_config=Configure.VectorIndex.hnsw(distance_metric=VectorDistances.COSINE),
                    ),
                    properties=schema_properties(),
                )
                return {"created": self.collection_name, "added": []}
            config = client.collections.use(self.collection_name).config
            have = {p.name for p in config.get(simple=True).properties}
            added = []
            for prop in schema_properties():
                if prop.name not in have:
                    config.add_property(prop)
                    added.append(prop.name)
            return {"created": None, "added": added}

        return self._call("schema", run)

    # --- writes ---------------------------------------------------------------------------------
    def upsert(self, records: list[VectorRecord]) -> int:
        from weaviate.classes.data import DataObject

        if not records:
            return 0
        objects = [
            DataObject(
                uuid=r.id,
                vector={VECTOR_NAME: [float(x) for x in np.asarray(r.vector, dtype=np.float32)]},
                properties={
                    "object_type": r.object_type, "object_id": r.object_id, "district": r.district or "",
                    "service_type": r.service_type or "", "created": r.created, "client_id": r.client_id,
                    "text": r.text, "keywords": list(r.keywords), "extra": json.dumps(r.properties, ensure_ascii=False),
                },
            )
            for r in records
        ]

        def run(collection) -> int:
            result = collection.data.insert_many(objects)
            if result.has_errors:
                first = next(iter(result.errors.values()))
                raise VectorStoreUnavailable(f"weaviate rejected {len(result.errors)} objects: {first.message}")
            return len(objects)

        return self._call("upsert", run)

    def delete(self, ids: list[uuid.UUID]) -> int:
        from weaviate.classes.query import Filter

        if not ids:
            return 0
        return self._call("delete", lambda c: c.data.delete_many(where=Filter.by_id().contains_any(list(ids))).successful)

    def delete_for_client(self, client_id: int) -> int:
        from weaviate.classes.query import Filter

        return self._call(
            "delete_for_client",
            lambda c: c.data.delete_many(where=Filter.by_property("client_id").equal(int(client_id))).successful,
        )

    # --- reads ----------------------------------------------------------------------------------
    @staticmethod
    def _filters(f: SearchFilters | None):
        from weaviate.classes.query import Filter

        if f is None:
            return None
        parts = []
        if f.district:
            parts.append(Filter.by_property("district").equal(f.district))
        if f.service_type:
            parts.append(Filter.by_property("service_type").equal(f.service_type))
        if f.created_from:
            parts.append(Filter.by_property("created").greater_or_equal(f.created_from))
        if f.created_to:
            parts.append(Filter.by_property("created").less_or_equal(f.created_to))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else Filter.all_of(parts)

    def search(self, vector: np.ndarray, *, limit: int = 10, filters: SearchFilters | None = None,
               query_text: str | None = None, alpha: float = 0.7) -> list[SearchHit]:
        from weaviate.classes.query import HybridFusion, MetadataQuery

        vec = [float(x) for x in np.asarray(vector, dtype=np.float32)]
        where = self._filters(filters)

        def run(collection):
            if query_text:
                # Weaviate's own BM25 (over text and keywords, which carry the concept tokens) fused
                # by rank with the vector search, like the embedded store; the query is expanded
                # with the bilingual vocabulary's concept tokens.
                return collection.query.hybrid(query=query_expanded_text(query_text), vector=vec, alpha=alpha,
                                               limit=limit, filters=where, fusion_type=HybridFusion.RANKED,
                                               target_vector=VECTOR_NAME, return_metadata=MetadataQuery(score=True))
            return collection.query.near_vector(near_vector=vec, limit=limit, filters=where, target_vector=VECTOR_NAME,
                                                return_metadata=MetadataQuery(distance=True))

        response = self._call("search", run)
        objects = list(response.objects)
        scores = {str(o.uuid): float((o.metadata.score if query_text else 1.0 - (o.metadata.distance or 0.0)) or 0.0)
                  for o in objects}
        if query_text:
            # The same second stage as the embedded store: the head re-ordered by concept coverage.
            keywords = {str(o.uuid): o.properties.get("keywords") or [] for o in objects}
            concepts = {t for t in query_concepts(query_text) if is_concept(t)}
            scores = dict(coverage_rerank(sorted(scores.items(), key=lambda item: -item[1]), query_concepts=concepts,
                                          keywords_of=keywords.__getitem__, best=RANKED_FUSION_BEST))
            objects.sort(key=lambda o: -scores[str(o.uuid)])
        hits = []
        for obj in objects:
            p = obj.properties
            created = p.get("created")
            hits.append(SearchHit(
                id=str(obj.uuid), score=scores[str(obj.uuid)], object_type=p.get("object_type", ""),
                object_id=p.get("object_id", ""), text=p.get("text", ""), district=p.get("district", ""),
                service_type=p.get("service_type", ""), created=created if isinstance(created, datetime) else None,
                properties=json.loads(p.get("extra") or "{}"),
            ))
        return hits

    def count(self) -> int:
        return int(self._call("count", lambda c: c.aggregate.over_all(total_count=True).total_count or 0))

    def exists(self, id_: uuid.UUID) -> bool:
        return bool(self._call("exists", lambda c: c.data.exists(id_)))

    def health(self) -> bool:
        try:
            return bool(self._connect().is_ready())
        except Exception as exc:  # any failure to reach it means not healthy
            logger.warning("weaviate health: %s", type(exc).__name__)
            self.close()
            return False
