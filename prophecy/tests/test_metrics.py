"""The embeddings count their cache and the time of what they compute (hvaccrm/metrics.py)."""

from __future__ import annotations

import pytest

from hvaccrm import metrics
from prophecy.services.sync import embeddings_compute

pytestmark = pytest.mark.django_db


def _counts(name: str) -> dict[str, float]:
    return metrics.counters_read()[name]


def test_embeddings_count_their_cache_and_the_time_of_what_they_computed():
    embeddings_compute(texts=["kocioł nie grzeje", "cieknie woda"])
    embeddings_compute(texts=["kocioł nie grzeje"])
    counts = _counts("hvaccrm_cache_requests")
    assert counts['["embeddings","miss"]'] == 2 and counts['["embeddings","hit"]'] == 1
    assert sum(_counts("hvaccrm_embedded_texts").values()) == 2
    assert any(k.endswith("|sum") for k in _counts("hvaccrm_embedding_duration_seconds"))
