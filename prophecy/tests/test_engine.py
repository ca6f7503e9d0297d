"""The pure parts: features, embeddings, the index, the forecaster (no database)."""

from __future__ import annotations

import numpy as np

from prophecy.engine.embeddings import PROVIDER_NAMES, provider_get
from prophecy.engine.evaluate import quality_measure
from prophecy.engine.features import features_extract
from prophecy.engine.forecast import confidence_score, demand_score, forecast_series, synthetic_history
from prophecy.engine.index import IndexRow, VectorIndex


def test_features_find_polish_inflected_symptoms_equipment_and_error_codes():
    f = features_extract("Kocioł gazowy pokazuje błąd F28, kaloryfery są zimne, a z klimatyzatora kapie woda")
    assert f.language == "pl"
    assert {"leak", "no_heating", "error"} <= set(f.symptoms)
    assert {"gas_boiler", "split_ac"} <= set(f.equipment)
    assert f.error_codes == ["F28"]
    assert "kocioł" in f.keywords and "kapać" in f.keywords


def test_features_of_english_text():
    f = features_extract("The outdoor unit makes a loud rattling noise, please repair it")
    assert f.language == "en"
    assert "noise" in f.symptoms and "outdoor_unit" in f.equipment and "repair" in f.service_indicators


def test_every_provider_gives_unit_vectors_and_polish_english_neighbours():
    for name in PROVIDER_NAMES:
        p = provider_get(name)
        v = p.embed(["woda kapie z jednostki wewnętrznej", "water dripping from the indoor unit",
                     "kocioł gazowy błąd F28"])
        assert v.shape == (3, p.dim) and v.dtype == np.float32
        assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
        assert v[0] @ v[1] > v[0] @ v[2]


def test_the_default_embedding_reaches_recall_at_5_of_0_8_on_the_labelled_set():
    from prophecy import conf

    quality = quality_measure(conf.EMBEDDING_PROVIDER)
    assert quality.recall_at_5 >= 0.8
    assert quality.mrr >= 0.9


def test_the_index_filters_replaces_and_removes_rows():
    ix = VectorIndex(3)
    e = np.eye(3, dtype=np.float32)
    ix.upsert([IndexRow("a", e[0], "wola", "repair", 100.0), IndexRow("b", e[1], "mokotow", "repair", 200.0)])
    assert [i for i, _ in ix.search(e[0], limit=2)] == ["a", "b"]
    assert [i for i, _ in ix.search(e[0], limit=2, district="mokotow")] == ["b"]
    assert [i for i, _ in ix.search(e[0], limit=2, created_from=150)] == ["b"]
    ix.upsert([IndexRow("a", e[2], "wola", "repair", 100.0)])
    assert len(ix) == 2 and ix.search(e[2], limit=1)[0][0] == "a"
    ix.remove(["a"])
    assert [i for i, _ in ix.search(e[2], limit=5)] == ["b"]


def test_the_forecaster_beats_seasonal_naive_on_a_history_with_known_seasons():
    keys = [(f"d{i}", s) for i in range(4) for s in ("installation", "maintenance")]
    weeks, series = synthetic_history(keys=keys, weeks=156)
    result = forecast_series(series, weeks=weeks, horizon=4, folds=3)
    assert result.folds == 3
    assert result.mase < result.naive_mase
    fc = result.forecasts[keys[0]]
    assert len(fc.mean) == 4 and all(lo <= m <= hi for lo, m, hi in zip(fc.low, fc.mean, fc.high, strict=True))


def test_demand_is_capped_and_confidence_falls_with_wide_intervals():
    assert demand_score(job_hours=90, capacity_hours=80) == 1.0
    assert demand_score(job_hours=40, capacity_hours=80) == 0.5
    assert confidence_score(mean=20, low=18, high=22, mase=0.4) > confidence_score(mean=20, low=5, high=35, mase=0.4)
    assert confidence_score(mean=20, low=18, high=22, mase=0.4) > confidence_score(mean=20, low=18, high=22, mase=1.5)


def test_a_large_index_trains_its_inverted_file_and_keeps_recall_and_updates():
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(300, 32)).astype(np.float32)
    matrix = centres[np.arange(25_000) % 300] + 0.3 * rng.normal(size=(25_000, 32)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    ix = VectorIndex(32)
    ix.upsert([IndexRow(str(i), matrix[i], "wola" if i % 2 else "mokotow") for i in range(25_000)])
    queries = matrix[:50] + 0.05 * rng.normal(size=(50, 32)).astype(np.float32)
    found = sum(len({i for i, _ in ix.search(q, limit=10)} & {i for i, _ in ix.search(q, limit=10, exact=True)})
                for q in queries)
    assert ix.ivf_ready()
    assert found / 500 >= 0.9
    # A row changed after training is still found, and a filter still holds.
    target = -matrix[7]
    ix.upsert([IndexRow("7", target, "wola")])
    assert ix.search(target, limit=1)[0][0] == "7"
    assert all(int(i) % 2 == 1 for i, _ in ix.search(matrix[3], limit=10, district="wola"))
