"""The backend contract: every vector store backend must pass these. Always against the embedded
store; against a live Weaviate when WEAVIATE_URL is set (skipped otherwise, with the reason)."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

import numpy as np
import pytest

from prophecy.stores import SearchFilters, VectorRecord, store_get, vector_id_for

BACKENDS = [
    "embedded",
    "weaviate-fake",  # the Weaviate backend against the in-process protocol fakes
    pytest.param("weaviate", marks=pytest.mark.skipif(
        not os.environ.get("WEAVIATE_URL"), reason="no live Weaviate: set WEAVIATE_URL to run the contract on it")),
]


def _unit(seed: int, dim: int = 8) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=dim).astype(np.float32)
    return v / np.linalg.norm(v)


def _record(n: int, **kw) -> VectorRecord:
    values = {"vector": _unit(n), "object_type": "test.object", "object_id": str(n), "text": f"tekst {n}",
              "district": "mokotow", "service_type": "repair", "created": datetime(2026, 1, n % 28 + 1, tzinfo=UTC),
              "client_id": 1000 + n % 2, "keywords": [f"k{n}"]}
    values.update(kw)
    return VectorRecord(id=vector_id_for(object_type=values["object_type"], object_id=values["object_id"]), **values)


@pytest.fixture(params=BACKENDS)
def store(request, settings, transactional_db):
    from prophecy.stores import store_reset

    store_reset()
    if request.param == "weaviate-fake":
        from prophecy.stores.weaviate import WeaviateStore
        from prophecy.tests.weaviate_fake import FakeWeaviate

        fake = FakeWeaviate()
        fake.install_rest(request.getfixturevalue("httpserver"))
        server, port = fake.start_grpc()
        s = WeaviateStore(url=request.getfixturevalue("httpserver").url_for("/").rstrip("/"), grpc_port=port,
                          timeout=2.0, retries=1)
        s.schema_migrate()
        yield s
        s.close()
        server.stop(0)
        return
    settings.VECTOR_STORE_BACKEND = request.param
    s = store_get(request.param)
    yield s
    ids = [vector_id_for(object_type="test.object", object_id=str(n)) for n in range(40)]
    s.delete(ids)


def test_vector_ids_are_deterministic_per_object():
    a = vector_id_for(object_type="communications.message", object_id="7")
    assert a == vector_id_for(object_type="communications.message", object_id="7")
    assert a != vector_id_for(object_type="hvaccrm.servicejob", object_id="7")
    assert isinstance(a, uuid.UUID) and a.version == 5


def test_a_batch_upsert_is_found_by_its_own_vector_and_counted(store):
    before = store.count()
    assert store.upsert([_record(n) for n in range(10)]) == 10
    assert store.count() == before + 10
    hits = store.search(_unit(3), limit=3)
    assert hits[0].object_id == "3" and hits[0].score == pytest.approx(1.0, abs=1e-3)
    assert hits[0].district == "mokotow" and hits[0].text == "tekst 3"


def test_upserting_the_same_id_twice_keeps_one_row(store):
    store.upsert([_record(1)])
    before = store.count()
    store.upsert([_record(1, text="nowy tekst")])
    assert store.count() == before
    assert store.search(_unit(1), limit=1)[0].text == "nowy tekst"


def test_search_filters_on_district_service_type_and_dates(store):
    store.upsert([_record(1, district="wola"), _record(2, service_type="installation"),
                  _record(3, created=datetime(2025, 6, 1, tzinfo=UTC)), _record(4)])
    assert {h.object_id for h in store.search(_unit(1), limit=10, filters=SearchFilters(district="wola"))} == {"1"}
    assert {h.object_id for h in store.search(_unit(1), limit=10,
                                               filters=SearchFilters(service_type="installation"))} == {"2"}
    old = store.search(_unit(1), limit=10, filters=SearchFilters(created_to=datetime(2025, 12, 31, tzinfo=UTC)))
    assert {h.object_id for h in old} == {"3"}
    new = store.search(_unit(1), limit=10, filters=SearchFilters(created_from=datetime(2026, 1, 1, tzinfo=UTC)))
    assert "3" not in {h.object_id for h in new}


def test_delete_and_delete_for_client_remove_vectors(store):
    store.upsert([_record(n) for n in range(6)])
    assert store.exists(vector_id_for(object_type="test.object", object_id="0"))
    store.delete([vector_id_for(object_type="test.object", object_id="0")])
    assert not store.exists(vector_id_for(object_type="test.object", object_id="0"))
    store.delete_for_client(1001)  # odd ids
    left = {h.object_id for h in store.search(_unit(1), limit=10)}
    assert left == {"2", "4"}


def test_hybrid_search_where_the_backend_has_it(store):
    assert store.supports_hybrid  # both backends offer it; a new one without it must say so here
    store.upsert([_record(1, keywords=["kocioł"]), _record(2, keywords=["pompa"])])
    hits = store.search(_unit(1), limit=2, query_text="pompa", alpha=0.0)
    assert hits[0].object_id == "2"


def test_hybrid_search_puts_the_text_naming_just_the_querys_problem_first(store):
    # "broad" has the query's vector and more of its words but names two other problems too;
    # the second stage (concept coverage) ranks "exact" first on every backend.
    store.upsert([_record(1, text="klimatyzacja ciec halas zapach", keywords=[
                      "klimatyzacja", "ciec", "hvaircon", "hvleak", "hvnoise", "hvsmell"]),
                  _record(2, text="split", keywords=["hvaircon", "hvleak"])])
    hits = store.search(_unit(1), limit=2, query_text="klimatyzacja cieknie", alpha=1 / 9)
    assert [h.object_id for h in hits] == ["2", "1"]


def test_the_store_reports_health(store):
    assert store.health() is True


@pytest.mark.django_db(transaction=True)
def test_a_large_batch_takes_the_copy_path_and_still_upserts():
    from prophecy.models import StoredVector
    from prophecy.stores.embedded import COPY_MIN_ROWS

    s = store_get("embedded")
    records = [_record(n, object_id=f"bulk{n}", keywords=["a", "b"], properties={"k": n}) for n in range(COPY_MIN_ROWS)]
    assert s.upsert(records) == COPY_MIN_ROWS
    assert s.upsert(records[:COPY_MIN_ROWS]) == COPY_MIN_ROWS  # the same ids again: still one row each
    assert StoredVector.objects.filter(object_id__startswith="bulk").count() == COPY_MIN_ROWS
    row = StoredVector.objects.get(object_id="bulk3")
    assert row.keywords == ["a", "b"] and row.properties == {"k": 3}
    assert s.search(_unit(3), limit=1)[0].object_id in {"bulk3", "3"}
