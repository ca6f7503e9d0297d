"""The Weaviate backend against in-process fakes of its REST and gRPC protocols."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

import numpy as np
import pytest

from prophecy.stores import SearchFilters, VectorRecord, VectorStoreUnavailable, vector_id_for
from prophecy.stores.weaviate import WeaviateStore
from prophecy.tests.weaviate_fake import FakeWeaviate, Op

API_KEY = "wv-secret-key-4242"


@pytest.fixture
def fake(httpserver):
    f = FakeWeaviate()
    f.install_rest(httpserver)
    server, port = f.start_grpc()
    f.grpc_port = port
    f.url = httpserver.url_for("/").rstrip("/")
    yield f
    server.stop(0)


@pytest.fixture
def store(fake):
    s = WeaviateStore(url=fake.url, api_key=API_KEY, grpc_port=fake.grpc_port, timeout=1.0, retries=1)
    yield s
    s.close()


def _vec(seed: int, dim: int = 8) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=dim).astype(np.float32)
    return v / np.linalg.norm(v)


def _record(n: int, **kw) -> VectorRecord:
    values = {"vector": _vec(n), "object_type": "communications.message", "object_id": str(n),
              "text": f"woda kapie {n}", "district": "mokotow", "service_type": "repair",
              "created": datetime(2026, 1, 10 + n, tzinfo=UTC), "client_id": 7 + n % 2, "keywords": ["woda", "kapać"],
              "properties": {"equipment": "Daikin"}}
    values.update(kw)
    return VectorRecord(id=vector_id_for(object_type=values["object_type"], object_id=values["object_id"]), **values)


def test_the_schema_command_creates_the_collection_with_our_vectors_and_properties(fake, store):
    assert store.schema_migrate() == {"created": "HvacText", "added": []}
    schema = fake.sent_schema
    assert schema["class"] == "HvacText"
    props = {p["name"]: p for p in schema["properties"]}
    assert set(props) == {"object_type", "object_id", "district", "service_type", "created", "client_id", "text",
                          "keywords", "extra"}
    assert props["district"]["dataType"] == ["text"] and props["district"]["tokenization"] == "field"
    assert props["created"]["dataType"] == ["date"] and props["client_id"]["dataType"] == ["int"]
    assert props["keywords"]["dataType"] == ["text[]"]
    vector = schema["vectorConfig"]["default"]
    assert vector["vectorizer"] == {"none": {}}
    assert vector["vectorIndexConfig"]["distance"] == "cosine"


def test_the_schema_command_adds_missing_properties_to_an_existing_collection(fake, store):
    store.schema_migrate()
    fake.schema["properties"] = [p for p in fake.schema["properties"] if p["name"] != "keywords"]
    assert store.schema_migrate() == {"created": None, "added": ["keywords"]}
    assert fake.added_properties[0]["name"] == "keywords"


def test_batch_import_sends_our_ids_vectors_and_properties(fake, store):
    records = [_record(1), _record(2)]
    assert store.upsert(records) == 2
    (batch,) = fake.requests_of("BatchObjects")
    assert [o.uuid for o in batch.objects] == [str(r.id) for r in records]
    assert all(o.collection == "HvacText" for o in batch.objects)
    stored = fake.objects[str(records[0].id)]
    assert np.allclose(stored["vectors"]["default"], records[0].vector, atol=1e-6)
    assert stored["properties"]["district"] == "mokotow" and stored["properties"]["client_id"] == 8
    assert stored["properties"]["keywords"] == ["woda", "kapać"]
    assert stored["properties"]["created"].startswith("2026-01-11")
    # A second import of the same object overwrites it (deterministic id): still two objects.
    store.upsert([_record(1, text="nowy")])
    assert len(fake.objects) == 2 and fake.objects[str(records[0].id)]["properties"]["text"] == "nowy"


def test_search_sends_the_vector_and_filters_and_reads_the_answer(fake, store):
    store.upsert([_record(n) for n in range(1, 5)] + [_record(9, district="wola")])
    hits = store.search(_vec(3), limit=2, filters=SearchFilters(
        district="mokotow", service_type="repair", created_from=datetime(2026, 1, 12, tzinfo=UTC)))
    request = fake.requests_of("Search")[-1]
    assert request.collection == "HvacText" and request.limit == 2
    f = request.filters
    assert f.operator == Op.OPERATOR_AND
    by_prop = {sub.target.property: sub for sub in f.filters}
    assert {sub.target.property for sub in f.filters} == {"district", "service_type", "created"}
    assert by_prop["district"].value_text == "mokotow" and by_prop["district"].operator == Op.OPERATOR_EQUAL
    assert hits[0].object_id == "3" and hits[0].score == pytest.approx(1.0, abs=1e-4)
    assert hits[0].district == "mokotow" and hits[0].properties == {"equipment": "Daikin"}
    assert {h.object_id for h in hits} <= {"2", "3", "4"}


def test_hybrid_search_sends_the_query_text_and_alpha(fake, store):
    store.upsert([_record(1), _record(2, text="pompa ciepła zamarza", keywords=["pompa"])])
    store.search(_vec(1), limit=2, query_text="pompa", alpha=0.25)
    request = fake.requests_of("Search")[-1]
    assert request.hybrid_search.query == "pompa" and request.hybrid_search.alpha == pytest.approx(0.25)


def test_erasure_sends_a_batch_delete_on_the_client_id(fake, store):
    store.upsert([_record(n) for n in range(1, 5)])
    assert store.delete_for_client(8) == 2  # odd numbers belong to client 8
    request = fake.requests_of("BatchDelete")[-1]
    assert request.collection == "HvacText" and request.filters.target.property == "client_id"
    assert request.filters.value_int == 8
    assert {o["properties"]["client_id"] for o in fake.objects.values()} == {7}
    assert store.delete([vector_id_for(object_type="communications.message", object_id="2")]) == 1


def test_count_exists_and_health_use_the_right_protocols(fake, store):
    store.upsert([_record(1)])
    assert store.count() == 1
    assert store.exists(vector_id_for(object_type="communications.message", object_id="1"))
    assert not store.exists(uuid.uuid4())
    assert store.health() is True


def test_the_api_key_is_sent_as_a_bearer_token_and_never_logged(fake, store, caplog):
    caplog.set_level(logging.DEBUG)
    fake.fail_grpc = 1
    store.upsert([_record(1)])
    store.health()
    headers = [h for _, path, h in fake.rest_requests if path.startswith("/v1/")]
    assert headers and all(h.get("Authorization") == f"Bearer {API_KEY}" for h in headers)
    assert fake.grpc_metadata and all(m.get("authorization") == f"Bearer {API_KEY}" for m in fake.grpc_metadata)
    assert API_KEY not in caplog.text and API_KEY not in repr(store)


def test_a_transient_grpc_failure_is_retried(fake, store):
    fake.fail_grpc = 1
    assert store.upsert([_record(1)]) == 1
    assert len(fake.requests_of("BatchObjects")) == 2


def test_a_transient_search_outage_is_retried_by_the_client(fake, store):
    store.upsert([_record(1)])
    fake.fail_grpc = 1  # UNAVAILABLE: weaviate-client itself retries after a second
    assert store.search(_vec(1), limit=1)[0].object_id == "1"


def test_a_lasting_server_error_raises_unavailable_after_our_retries(fake, store):
    import grpc

    fake.fail_grpc, fake.fail_code = 10, grpc.StatusCode.INTERNAL
    with pytest.raises(VectorStoreUnavailable):
        store.search(_vec(1), limit=1)
    assert len(fake.requests_of("Search")) == 2  # one try and one retry


def test_a_slow_server_hits_the_timeout_and_raises_unavailable(fake, store):
    fake.delay = 1.6
    started = datetime.now()
    with pytest.raises(VectorStoreUnavailable):
        store.search(_vec(1), limit=1)
    assert (datetime.now() - started).total_seconds() < 8


def test_rejected_objects_raise_with_the_servers_message(fake, store):
    fake.reject_batch = True
    with pytest.raises(VectorStoreUnavailable, match="fake rejection"):
        store.upsert([_record(1)])


def test_an_unreachable_server_is_unhealthy():
    s = WeaviateStore(url="http://127.0.0.1:9", api_key=API_KEY, grpc_port=10, timeout=0.5, retries=0)
    assert s.health() is False
    with pytest.raises(VectorStoreUnavailable):
        s.count()
