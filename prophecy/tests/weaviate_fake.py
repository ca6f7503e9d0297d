"""In-process fakes of Weaviate's two protocols, as weaviate-client's own mock tests build them:
REST on pytest-httpserver (meta, readiness, schema, object existence) and an in-process gRPC
servicer (health, batch import, batch delete, search, aggregate). The fake keeps the objects it
is sent, evaluates the filters it receives and records every request so the tests can check
exactly what our backend sends.
"""

from __future__ import annotations

import json
import struct
import threading
import time
import uuid
from concurrent import futures
from datetime import datetime

import grpc
import numpy as np
from weaviate.proto.v1 import (
    aggregate_pb2,
    base_pb2,
    base_search_pb2,
    batch_delete_pb2,
    batch_pb2,
    health_weaviate_pb2,
    properties_pb2,
    search_get_pb2,
    weaviate_pb2_grpc,
)
from werkzeug.wrappers import Request, Response

Op = base_pb2.Filters
# What a server reports for an HNSW index it was not told more about.
HNSW_DEFAULTS = {
    "cleanupIntervalSeconds": 300, "distance": "cosine", "dynamicEfFactor": 8, "dynamicEfMax": 500,
    "dynamicEfMin": 100, "ef": -1, "efConstruction": 128, "filterStrategy": "sweeping", "flatSearchCutoff": 40000,
    "maxConnections": 32, "skip": False, "vectorCacheMaxObjects": 1000000000000, "maxPostingSizeKB": 48,
    "replicas": 4, "searchProbe": 64, "bq": {"enabled": False}, "sq": {"enabled": False},
    "pq": {"enabled": False}, "rq": {"enabled": False},
}


class FakeWeaviate:
    def __init__(self) -> None:
        self.objects: dict[str, dict] = {}
        self.schema: dict | None = None
        self.added_properties: list[dict] = []
        self.grpc_requests: list[tuple[str, object]] = []
        self.rest_requests: list[tuple[str, str, dict]] = []
        self.grpc_metadata: list[dict] = []
        self.fail_grpc = 0  # answer the next N gRPC calls with `fail_code`
        self.fail_code = grpc.StatusCode.UNAVAILABLE
        self.delay = 0.0  # seconds to sleep in each gRPC call (timeouts)
        self.reject_batch = False
        self.lock = threading.Lock()

    # --- REST ---------------------------------------------------------------------------------
    def install_rest(self, httpserver) -> None:
        httpserver.expect_request("/v1/meta").respond_with_json({"version": "1.32.0", "modules": {}})
        httpserver.expect_request("/v1/.well-known/ready").respond_with_handler(self._ready)
        httpserver.expect_request("/v1/.well-known/live").respond_with_json({})
        httpserver.expect_request("/v1/.well-known/openid-configuration").respond_with_response(Response("", 404))
        httpserver.expect_request("/v1/nodes").respond_with_json({"nodes": [{"gitHash": "fake"}]})
        httpserver.expect_request("/v1/schema", method="POST").respond_with_handler(self._schema_create)
        httpserver.expect_request(f"/v1/schema/{self.collection}/properties", method="POST").respond_with_handler(
            self._property_add)
        httpserver.expect_request(f"/v1/schema/{self.collection}", method="GET").respond_with_handler(self._schema_get)
        httpserver.expect_request(f"/v1/schema/{self.collection.lower()}", method="GET").respond_with_handler(
            self._schema_get)
        httpserver.expect_request(
            __import__("re").compile(r"^/v1/objects/.*"), method="HEAD").respond_with_handler(self._object_head)

    collection = "HvacText"

    def _log(self, request: Request) -> None:
        self.rest_requests.append((request.method, request.path, dict(request.headers)))

    def _ready(self, request: Request) -> Response:
        self._log(request)
        return Response("", 200)

    @staticmethod
    def _with_defaults(prop: dict) -> dict:
        """Fill what a real server fills in for a property it is sent."""
        text = prop["dataType"][0] in ("text", "text[]")
        return {"indexFilterable": True, "indexSearchable": text, "indexRangeFilters": False,
                **({"tokenization": "word"} if text else {}), **prop}

    def _schema_create(self, request: Request) -> Response:
        self._log(request)
        self.sent_schema = json.loads(request.data)
        self.schema = {**self.sent_schema,
                       "properties": [self._with_defaults(p) for p in self.sent_schema.get("properties", [])]}
        for vector in self.schema.get("vectorConfig", {}).values():
            vector["vectorIndexConfig"] = {**HNSW_DEFAULTS, **vector.get("vectorIndexConfig", {})}
        return Response(json.dumps(self.schema), 200, content_type="application/json")

    def _schema_get(self, request: Request) -> Response:
        self._log(request)
        if self.schema is None:
            return Response(json.dumps({"error": [{"message": "not found"}]}), 404, content_type="application/json")
        return Response(json.dumps(self.schema), 200, content_type="application/json")

    def _property_add(self, request: Request) -> Response:
        self._log(request)
        prop = json.loads(request.data)
        self.added_properties.append(prop)
        self.schema["properties"].append(self._with_defaults(prop))
        return Response(json.dumps(prop), 200, content_type="application/json")

    def _object_head(self, request: Request) -> Response:
        self._log(request)
        object_id = request.path.rstrip("/").rsplit("/", 1)[-1]
        return Response("", 204 if object_id in self.objects else 404)

    # --- gRPC -----------------------------------------------------------------------------------
    def start_grpc(self) -> tuple[grpc.Server, int]:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        weaviate_pb2_grpc.add_WeaviateServicer_to_server(_Servicer(self), server)
        health = grpc.method_handlers_generic_handler("grpc.health.v1.Health", {
            "Check": grpc.unary_unary_rpc_method_handler(
                lambda req, ctx: health_weaviate_pb2.WeaviateHealthCheckResponse(
                    status=health_weaviate_pb2.WeaviateHealthCheckResponse.SERVING),
                request_deserializer=health_weaviate_pb2.WeaviateHealthCheckRequest.FromString,
                response_serializer=health_weaviate_pb2.WeaviateHealthCheckResponse.SerializeToString,
            ),
        })
        server.add_generic_rpc_handlers((health,))
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        return server, port

    def requests_of(self, method: str) -> list:
        return [r for m, r in self.grpc_requests if m == method]

    # --- filters ----------------------------------------------------------------------------------
    def matches(self, obj_id: str, f: base_pb2.Filters) -> bool:
        if f.operator == Op.OPERATOR_AND:
            return all(self.matches(obj_id, sub) for sub in f.filters)
        if f.operator == Op.OPERATOR_OR:
            return any(self.matches(obj_id, sub) for sub in f.filters)
        prop = f.target.property if f.HasField("target") else (f.on[0] if f.on else "")
        if prop == "_id":
            values = list(f.value_text_array.values) if f.HasField("value_text_array") else [f.value_text]
            return obj_id in values
        value = self.objects[obj_id]["properties"].get(prop)
        which = f.WhichOneof("test_value")
        wanted = getattr(f, which) if which else None
        if which == "value_text" and prop == "created":
            wanted = datetime.fromisoformat(wanted.replace("Z", "+00:00"))
            value = datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
        if value is None:
            return False
        if f.operator == Op.OPERATOR_EQUAL:
            return value == wanted
        if f.operator == Op.OPERATOR_GREATER_THAN_EQUAL:
            return value >= wanted
        if f.operator == Op.OPERATOR_LESS_THAN_EQUAL:
            return value <= wanted
        raise NotImplementedError(f"fake Weaviate: operator {f.operator} on {prop}")


def _decode_floats(data: bytes) -> np.ndarray:
    return np.array(struct.unpack(f"<{len(data) // 4}f", data), dtype=np.float32)


def _value(v) -> properties_pb2.Value:
    if v is None:
        return properties_pb2.Value(null_value=0)
    if isinstance(v, bool):
        return properties_pb2.Value(bool_value=v)
    if isinstance(v, int):
        return properties_pb2.Value(int_value=v)
    if isinstance(v, list):
        return properties_pb2.Value(list_value=properties_pb2.ListValue(
            text_values=properties_pb2.TextValues(values=[str(x) for x in v])))
    return properties_pb2.Value(text_value=str(v))


class _Servicer(weaviate_pb2_grpc.WeaviateServicer):
    def __init__(self, fake: FakeWeaviate) -> None:
        self.fake = fake

    def _enter(self, name: str, request, context) -> bool:
        self.fake.grpc_requests.append((name, request))
        self.fake.grpc_metadata.append(dict(context.invocation_metadata()))
        if self.fake.delay:
            time.sleep(self.fake.delay)
        if self.fake.fail_grpc > 0:
            self.fake.fail_grpc -= 1
            context.abort(self.fake.fail_code, "fake outage")
        return True

    def BatchObjects(self, request, context):
        self._enter("BatchObjects", request, context)
        errors = []
        with self.fake.lock:
            for index, obj in enumerate(request.objects):
                if self.fake.reject_batch:
                    errors.append(batch_pb2.BatchObjectsReply.BatchError(index=index, error="fake rejection"))
                    continue
                props = json.loads(json.dumps(dict(obj.properties.non_ref_properties)))
                for arr in obj.properties.text_array_properties:
                    props[arr.prop_name] = list(arr.values)
                for arr in obj.properties.int_array_properties:
                    props[arr.prop_name] = list(arr.values)
                if isinstance(props.get("client_id"), float):
                    props["client_id"] = int(props["client_id"])
                vectors = {v.name: _decode_floats(v.vector_bytes) for v in obj.vectors}
                if obj.vector_bytes:
                    vectors["default"] = _decode_floats(obj.vector_bytes)
                self.fake.objects[obj.uuid] = {"properties": props, "vectors": vectors, "collection": obj.collection}
        return batch_pb2.BatchObjectsReply(took=0.001, errors=errors)

    def BatchDelete(self, request, context):
        self._enter("BatchDelete", request, context)
        with self.fake.lock:
            doomed = [i for i in self.fake.objects if self.fake.matches(i, request.filters)]
            if not request.dry_run:
                for i in doomed:
                    del self.fake.objects[i]
        return batch_delete_pb2.BatchDeleteReply(took=0.001, failed=0, matches=len(doomed), successful=len(doomed))

    def Aggregate(self, request, context):
        self._enter("Aggregate", request, context)
        return aggregate_pb2.AggregateReply(
            took=0.001, single_result=aggregate_pb2.AggregateReply.Single(objects_count=len(self.fake.objects)))

    def Search(self, request, context):
        self._enter("Search", request, context)
        with self.fake.lock:
            candidates = [i for i in self.fake.objects
                          if not request.HasField("filters") or self.fake.matches(i, request.filters)]
            if request.HasField("hybrid_search"):
                hybrid = request.hybrid_search
                query_vec = self._query_vector(hybrid.near_vector if hybrid.HasField("near_vector") else hybrid)
                terms = set(hybrid.query.lower().split())
                alpha = hybrid.alpha
            else:
                query_vec = self._query_vector(request.near_vector)
                terms, alpha = set(), 1.0
            scored = []
            for i in candidates:
                obj = self.fake.objects[i]
                vec = obj["vectors"].get("default")
                cosine = float(vec @ query_vec) if vec is not None else 0.0
                words = set(" ".join([obj["properties"].get("text", "")]
                                     + obj["properties"].get("keywords", [])).lower().split())
                keyword = len(terms & words) / len(terms) if terms else 0.0
                scored.append((alpha * cosine + (1 - alpha) * keyword, cosine, i, keyword))
            if terms and request.hybrid_search.fusion_type == base_search_pb2.Hybrid.FUSION_TYPE_RANKED:
                # Weaviate's rankedFusion: alpha / (60 + vector rank) + (1 - alpha) / (60 + keyword rank),
                # the keyword ranking holding only objects that match a term.
                by_vec = {i: r for r, (_, _, i, _) in enumerate(sorted(scored, key=lambda x: -x[1]), start=1)}
                by_kw = {i: r for r, (_, _, i, kw) in enumerate(sorted(scored, key=lambda x: -x[3]), start=1) if kw > 0}
                scored = [(alpha / (60 + by_vec[i]) + ((1 - alpha) / (60 + by_kw[i]) if i in by_kw else 0.0), c, i, kw)
                          for _, c, i, kw in scored]
            scored.sort(key=lambda x: -x[0])
        results = []
        for score, cosine, i, _kw in scored[: request.limit or 10]:
            props = self.fake.objects[i]["properties"]
            results.append(search_get_pb2.SearchResult(
                properties=search_get_pb2.PropertiesResult(
                    non_ref_props=properties_pb2.Properties(fields={k: _value(v) for k, v in props.items()}),
                    target_collection=self.fake.collection,
                ),
                metadata=search_get_pb2.MetadataResult(
                    id_as_bytes=uuid.UUID(i).bytes, distance=1 - cosine, distance_present=True,
                    score=score, score_present=True,
                ),
            ))
        return search_get_pb2.SearchReply(took=0.001, results=results)

    @staticmethod
    def _query_vector(message) -> np.ndarray:
        """The query vector wherever this client version put it (bytes, vectors, per target)."""
        if getattr(message, "vector_bytes", b""):
            return _decode_floats(message.vector_bytes)
        for v in getattr(message, "vectors", []):
            return _decode_floats(v.vector_bytes)
        for vft in getattr(message, "vector_for_targets", []):
            for v in vft.vectors:
                return _decode_floats(v.vector_bytes)
            return _decode_floats(vft.vector_bytes)
        raise ValueError("fake Weaviate: no query vector in the request")
