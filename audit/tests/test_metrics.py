"""The caches, the semantic search and the embeddings count what they do at their one entry point,
and `/metrics` shows it (the families are defined in hvaccrm/metrics.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hvaccrm import metrics
from mapping.selectors import districts_geojson
from prophecy import selectors

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _embedded_store(settings):
    from prophecy.stores import store_reset

    settings.VECTOR_STORE_BACKEND = "embedded"
    store_reset()
    yield
    store_reset()


def _counts(name: str) -> dict[str, float]:
    return metrics.counters_read()[name]


def test_the_district_caches_count_a_miss_then_a_hit_per_tier():
    districts_geojson()
    districts_geojson()
    counts = _counts("hvaccrm_cache_requests")
    tiers = {key for key in counts if key.startswith('["district_')}
    assert tiers == {f'["district_{t}","{r}"]' for t in ("high", "medium", "low") for r in ("hit", "miss")}
    assert sum(v for k, v in counts.items() if k.endswith('"miss"]')) == 18
    assert sum(v for k, v in counts.items() if k.endswith('"hit"]')) == 18


def test_a_search_counts_its_time_and_results_by_backend_and_source_and_its_answer_cache():
    source = selectors.search_similar(query="water leaking from the indoor unit", limit=2)["source"]
    selectors.search_similar(query="water leaking from the indoor unit", limit=2)
    durations = _counts("hvaccrm_search_duration_seconds")
    assert {k.split("|")[0] for k in durations} == {f'["embedded","{source}"]', '["embedded","cache"]'}
    results = _counts("hvaccrm_search_results")
    assert results[f'["embedded","{source}"]|0'] == 1  # nothing synced yet: no results
    counts = _counts("hvaccrm_cache_requests")
    assert counts['["search","miss"]'] == 1 and counts['["search","hit"]'] == 1


def test_metrics_show_every_family_to_a_manager(client, manager):
    client.force_login(manager)
    body = client.get(reverse("audit:metrics")).content.decode()
    for family in (*metrics.FAMILIES, *metrics.GAUGES, "hvaccrm_integration_health_state", "hvaccrm_vector_store_up"):
        assert f"# TYPE {family}" in body.replace("_total counter", " counter")
