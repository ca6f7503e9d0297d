"""Prophecy's figures: retrieval quality of each embedding choice, embedding and sync throughput,
search over 100,000 stored texts, forecast time and backtest accuracy.

Its rows in the database are its own (object types "bench.sync" and "bench.search") and are
deleted at the end, also when it fails. Run (all parts, or only those named: quality embedding sync search forecast):
    DEBUG=true DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/bench_prophecy.py [PART...]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hvaccrm.settings")
django.setup()

import numpy as np  # noqa: E402
from django.db import transaction  # noqa: E402

from prophecy import conf, services  # noqa: E402
from prophecy.engine.embeddings import PROVIDER_NAMES, provider_get  # noqa: E402
from prophecy.engine.evaluate import (  # noqa: E402
    QUERY_VARIANTS,
    RETRIEVAL_METHODS,
    corpus_index,
    quality_measure,
    retrieval_measure,
)
from prophecy.engine.features import features_extract  # noqa: E402
from prophecy.engine.forecast import forecast_series, synthetic_history  # noqa: E402
from prophecy.models import StoredVector, SyncState, TextFeatures  # noqa: E402
from prophecy.stores import SearchFilters, VectorRecord, store_get, vector_id_for  # noqa: E402
from prophecy.stores.embedded import _version_bump  # noqa: E402

BENCH_TYPES = ("bench.sync", "bench.search")
SLUGS = ("mokotow", "wola", "wilanow", "ursynow", "bemowo", "srodmiescie", "praga-poludnie", "bielany")
SERVICES = ("installation", "maintenance", "repair", "inspection")

_SUBJECTS = ["Klimatyzator", "Jednostka wewnętrzna", "Pompa ciepła", "Kocioł gazowy", "Rekuperator", "The AC unit",
             "The heat pump", "The boiler", "Our split system", "Agregat zewnętrzny"]
_PROBLEMS = ["cieknie woda", "nie chłodzi", "głośno hałasuje", "pokazuje błąd E{n}", "zamarza zimą", "brzydko pachnie",
             "is leaking water", "does not cool", "makes a loud noise", "shows error F{n}", "keeps losing pressure",
             "won't turn on"]
_TAILS = ["od {n} dni", "po przeglądzie", "w sypialni", "in the office", "since last week", "again after the repair",
          "na {n}. piętrze", "every morning"]


def texts_generate(n: int, seed: int = 1) -> list[str]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        num = int(rng.integers(1, 99))
        out.append(" ".join([
            _SUBJECTS[rng.integers(len(_SUBJECTS))], _PROBLEMS[rng.integers(len(_PROBLEMS))].format(n=num),
            _TAILS[rng.integers(len(_TAILS))].format(n=num), f"(#{i})",
        ]))
    return out


def cleanup() -> None:
    with transaction.atomic():
        StoredVector.objects.filter(object_type__in=BENCH_TYPES).delete()
        TextFeatures.objects.filter(object_type__in=BENCH_TYPES).delete()
        SyncState.objects.filter(object_type__in=BENCH_TYPES).delete()
        _version_bump(deleted=True)


def bench_quality() -> None:
    for choice in [*PROVIDER_NAMES, f"hybrid:{conf.EMBEDDING_PROVIDER}"]:
        q = quality_measure(choice)
        mark = " (default)" if choice == conf.EMBEDDING_PROVIDER else ""
        print(f"old small set, {choice}{mark}: recall@5 {q.recall_at_5:.3f}, MRR {q.mrr:.3f} ({q.queries} queries)")
    # The retrieval set: tuned on dev only; test is frozen (its sha256 is checked by a test).
    prepared = corpus_index(conf.EMBEDDING_PROVIDER)
    names = {"vector": "today's vector search", "hybrid-blend": "today's hybrid (score blend)",
             "fused": "fused BM25 over lemmas + concepts with the vector ranking, coverage rerank (default)"}
    for variant in QUERY_VARIANTS:
        for method in RETRIEVAL_METHODS if variant == "as written" else ("vector", "fused"):
            for split in ("dev", "test"):
                q = retrieval_measure(method=method, split=split, prepared=prepared, variant=variant)
                print(f"retrieval set {split:4} queries {variant}, {names[method]}: recall@5 {q.recall_at_5:.3f}, "
                      f"MRR {q.mrr:.3f} ({q.queries} queries, {len(prepared[0])} cases)", flush=True)


def bench_embedding() -> None:
    texts = texts_generate(600, seed=2)
    for name in PROVIDER_NAMES:
        provider = provider_get(name)
        provider.embed(texts[:8])  # load
        started = time.perf_counter()
        for i in range(0, len(texts), 100):
            provider.embed(texts[i:i + 100])
        rate = len(texts) / (time.perf_counter() - started)
        print(f"embedding throughput {name}: {rate:.0f} texts/s (batches of 100, one BLAS thread)")


def bench_sync(n: int = 300) -> None:
    texts = texts_generate(n, seed=3)
    started = time.perf_counter()
    for i, text in enumerate(texts):
        services.sync_object(object_type="bench.sync", object_id=str(i), text=f"Jan Kowalski, tel. 600 100 200: {text}",
                             district=SLUGS[i % len(SLUGS)], service_type=SERVICES[i % 4],
                             created="2026-01-01T10:00:00+01:00", client_id=None, extra={"equipment": "Daikin"})
    elapsed = time.perf_counter() - started
    print(f"sync throughput (embedded store, end to end: privacy filter, features, embedding, upsert, sync state): "
          f"{n / elapsed:.0f} objects/s ({n} objects, one at a time)")
    started = time.perf_counter()
    again = sum(services.sync_object(object_type="bench.sync", object_id=str(i), text=f"Jan Kowalski, tel. 600 100 200: {t}",
                                     district=SLUGS[i % len(SLUGS)], service_type=SERVICES[i % 4],
                                     created="2026-01-01T10:00:00+01:00", client_id=None,
                                     extra={"equipment": "Daikin"})["state"] == "unchanged"
                for i, t in enumerate(texts[:100]))
    print(f"repeat sync of 100 unchanged objects: {again} no-ops, {100 / (time.perf_counter() - started):.0f} objects/s")


def _search_timings(store, index, query_texts, query_vecs) -> tuple[np.ndarray, ...]:
    """Milliseconds per query: the in-process index, the store, the store with filters, hybrid."""
    timings: dict[str, list[float]] = {"index": [], "store": [], "filtered": [], "hybrid": []}
    calls = {
        "index": lambda text, q: index.search(q, limit=10),
        "store": lambda text, q: store.search(q, limit=10),
        "filtered": lambda text, q: store.search(q, limit=10, filters=SearchFilters(district="wola",
                                                                                     service_type="repair")),
        "hybrid": lambda text, q: store.search(q, limit=30, query_text=text),
    }
    for text, q in zip(query_texts, query_vecs, strict=True):
        for name, call in calls.items():
            t0 = time.perf_counter()
            call(text, q)
            timings[name].append(time.perf_counter() - t0)
    return tuple(np.array(timings[name]) * 1000 for name in calls)


def bench_search(total: int = 100_000, base: int = 2_000, queries: int = 200) -> None:
    provider = provider_get(conf.EMBEDDING_PROVIDER)
    texts = texts_generate(base, seed=4)
    started = time.perf_counter()
    vectors = provider.embed(texts)
    keywords = [features_extract(t).keywords for t in texts]
    print(f"embedded {base} distinct texts for the search set in {time.perf_counter() - started:.1f} s; the "
          f"{total} stored vectors are those plus small noise (renormalised)")
    rng = np.random.default_rng(5)
    store = store_get("embedded")
    started = time.perf_counter()
    batch: list[VectorRecord] = []
    for i in range(total):
        v = vectors[i % base] + rng.normal(scale=0.02, size=provider.dim).astype(np.float32)
        v /= np.linalg.norm(v)
        batch.append(VectorRecord(
            id=vector_id_for(object_type="bench.search", object_id=str(i)), vector=v, object_type="bench.search",
            object_id=str(i), text=texts[i % base], district=SLUGS[i % len(SLUGS)], service_type=SERVICES[i % 4],
            keywords=keywords[i % base], created=None, client_id=None,
        ))
        if len(batch) == 5000:
            store.upsert(batch)
            batch = []
    store.upsert(batch)
    print(f"stored {total} vectors in PostgreSQL in {time.perf_counter() - started:.1f} s "
          f"({total / (time.perf_counter() - started):.0f} vectors/s in batches of 5000)")
    started = time.perf_counter()
    index = store._refresh()
    print(f"index load of {store.count()} vectors from PostgreSQL into this process: {time.perf_counter() - started:.1f} s")
    query_texts = texts_generate(queries, seed=6)
    query_vecs = provider.embed(query_texts)
    started = time.perf_counter()
    index.search(query_vecs[0], limit=1)
    print(f"inverted-file training (once per process, again when the index doubles): "
          f"{time.perf_counter() - started:.1f} s")
    msi, ms, msf, msh = _search_timings(store, index, query_texts, query_vecs)
    kind = "inverted file" if index.ivf_ready() else "exact"
    print(f"search over {total} stored texts, in-process index only ({kind}, top 10): "
          f"p50 {np.percentile(msi, 50):.1f} ms, p95 {np.percentile(msi, 95):.1f} ms")
    print(f"search over {total} stored texts through the store (+ rows and version in one SQL round trip): "
          f"p50 {np.percentile(ms, 50):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms")
    print(f"hybrid search over {total} stored texts (query terms with typo tolerance, vector + BM25, rank fusion, "
          f"coverage rerank; top 30 as the page asks): p50 {np.percentile(msh, 50):.1f} ms, "
          f"p95 {np.percentile(msh, 95):.1f} ms")
    print(f"search with district+service filters: p50 {np.percentile(msf, 50):.1f} ms, "
          f"p95 {np.percentile(msf, 95):.1f} ms")
    index = store._index
    if index.ivf_ready():
        hits = 0
        for q in query_vecs[:100]:
            exact = {i for i, _ in index.search(q, limit=10, exact=True)}
            approx = {i for i, _ in index.search(q, limit=10)}
            hits += len(exact & approx)
        print(f"approximate index recall@10 against exact search: {hits / 1000:.3f}")
    else:
        print("the index is exact (recall@10 = 1.0 by construction)")


def bench_forecast() -> None:
    keys = [(slug, service) for slug in (
        "bemowo", "bialoleka", "bielany", "mokotow", "ochota", "praga-poludnie", "praga-polnoc", "rembertow",
        "srodmiescie", "targowek", "ursus", "ursynow", "wawer", "wesola", "wilanow", "wlochy", "wola", "zoliborz",
    ) for service in SERVICES]
    weeks, series = synthetic_history(keys=keys, weeks=156, seed=11)
    started = time.perf_counter()
    fit_only = forecast_series(series, weeks=weeks, horizon=4, folds=0)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    result = forecast_series(series, weeks=weeks, horizon=4, folds=6)
    total = time.perf_counter() - started
    model = next(iter(fit_only.forecasts.values())).model
    print(f"forecast fit-and-predict, {len(keys)} series (18 districts x 4 service types), 156 weeks, horizon 4, "
          f"model {model}: {fit_seconds:.1f} s")
    print(f"rolling-origin backtest, {result.folds} folds of 4 weeks: MASE {result.mase:.3f}, seasonal-naive MASE "
          f"{result.naive_mase:.3f}, ratio {result.mase / result.naive_mase:.2f} (goal <= 0.8); with the final fit "
          f"{total:.1f} s")


def main() -> int:
    started = time.perf_counter()
    load = os.getloadavg()
    print(f"machine load average at start: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores "
          "(other processes share the cores: figures are lower bounds)", flush=True)
    cleanup()
    parts = {"quality": bench_quality, "embedding": bench_embedding, "sync": bench_sync, "search": bench_search,
             "forecast": bench_forecast}
    chosen = sys.argv[1:] or list(parts)  # e.g. `bench_prophecy.py quality search`
    try:
        for name in chosen:
            parts[name]()
    finally:
        cleanup()
        print(f"bench rows removed; total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
