"""Retrieval quality of an embedding choice on the labelled set (recall@k and MRR). Pure Python."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from prophecy.engine.embeddings import provider_get
from prophecy.engine.features import lemmas

LABELLED_SET = Path(__file__).resolve().parent.parent / "tests" / "data" / "hvac_retrieval.json"


@dataclass
class Quality:
    choice: str
    recall_at_5: float
    mrr: float
    queries: int
    seconds: float


def labelled_set() -> dict:
    return json.loads(LABELLED_SET.read_text(encoding="utf-8"))


def keyword_scores(query: str, documents: list[list[str]]) -> np.ndarray:
    """Share of the query's lemmas found in each document's lemmas (0..1)."""
    terms = set(lemmas(query))
    if not terms:
        return np.zeros(len(documents), dtype=np.float32)
    return np.array([len(terms.intersection(doc)) / len(terms) for doc in documents], dtype=np.float32)


def hybrid_rank(vector_scores: np.ndarray, kw_scores: np.ndarray, *, alpha: float) -> np.ndarray:
    return alpha * vector_scores + (1.0 - alpha) * kw_scores


def quality_measure(choice: str, *, k: int = 5, alpha: float = 0.7) -> Quality:
    """choice: a provider name, or "hybrid:<provider>" (vector + keyword ranking)."""
    data = labelled_set()
    started = time.perf_counter()
    hybrid = choice.startswith("hybrid:")
    provider = provider_get(choice.split(":", 1)[1] if hybrid else choice)
    docs = data["documents"]
    doc_vectors = provider.embed([d["text"] for d in docs])
    doc_lemmas = [set(lemmas(d["text"])) for d in docs]
    query_vectors = provider.embed([q["text"] for q in data["queries"]])
    recalls, ranks = [], []
    for q, qv in zip(data["queries"], query_vectors, strict=True):
        scores = doc_vectors @ qv
        if hybrid:
            scores = hybrid_rank(scores, keyword_scores(q["text"], doc_lemmas), alpha=alpha)
        order = np.argsort(-scores)
        relevant = {i for i, d in enumerate(docs) if d["topic"] == q["topic"]}
        top = set(order[:k].tolist())
        recalls.append(len(top & relevant) / min(k, len(relevant)))
        first = next(r for r, i in enumerate(order.tolist(), start=1) if i in relevant)
        ranks.append(1.0 / first)
    return Quality(choice, float(np.mean(recalls)), float(np.mean(ranks)), len(recalls),
                   time.perf_counter() - started)
