"""Retrieval quality of an embedding choice on the labelled set (recall@k and MRR). Pure Python."""

from __future__ import annotations

import json
import random
import time
import unicodedata
import zlib
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


# --- the retrieval set (cases, dev and frozen test queries) ---------------------------------------
DATA_DIR = LABELLED_SET.parent
RETRIEVAL_CORPUS = DATA_DIR / "retrieval_corpus.json"
RETRIEVAL_SPLITS = {"dev": DATA_DIR / "retrieval_dev.json", "test": DATA_DIR / "retrieval_test.json"}
# The frozen test split's digest (a test checks it): tune on dev only.
RETRIEVAL_TEST_SHA256 = "c7c4de4ef9a8f12981ac26e248271b1caa28a6a3c5a044665f9a2179797abc9c"
RETRIEVAL_METHODS = ("vector", "hybrid-blend", "fused")


def corpus_index(provider_name: str):
    """The corpus in a VectorIndex, as the embedded store holds it (keywords from the features)."""
    from prophecy.engine.features import features_extract
    from prophecy.engine.index import IndexRow, VectorIndex

    cases = json.loads(RETRIEVAL_CORPUS.read_text(encoding="utf-8"))["cases"]
    provider = provider_get(provider_name)
    vectors = provider.embed([c["text"] for c in cases])
    index = VectorIndex(provider.dim)
    index.upsert([IndexRow(c["id"], v, keywords=tuple(features_extract(c["text"]).keywords))
                  for c, v in zip(cases, vectors, strict=True)])
    return cases, index, provider


QUERY_VARIANTS = ("as written", "no diacritics", "typos")


def query_variant(text: str, variant: str) -> str:
    """A query as typed by someone in a hurry, the same every run: `no diacritics` ("mokra sciana
    pod klima"), `typos` (two in five words of five letters or more get one edit: a letter dropped,
    changed or swapped with its neighbour, seeded by the query's text)."""
    if variant == "no diacritics":
        folded = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
        return "".join(c for c in folded if not unicodedata.combining(c))
    if variant != "typos":
        return text
    rng = random.Random(zlib.crc32(text.encode()))
    words = []
    for word in text.split():
        if len(word) >= 5 and rng.random() < 0.4:
            i, op = rng.randrange(1, len(word) - 1), rng.choice("dsw")
            if op == "d":
                word = word[:i] + word[i + 1:]
            elif op == "s":
                word = word[:i] + rng.choice("aeioukrnst") + word[i + 1:]
            else:
                word = word[:i] + word[i + 1] + word[i] + word[i + 2:]
        words.append(word)
    return " ".join(words)


def retrieval_measure(*, method: str, split: str, provider_name: str = "use+hashgram", k: int = 5,
                      prepared=None, variant: str = "as written") -> Quality:
    """recall@k and MRR of a method on a split of the retrieval set. `vector`: today's ranking
    (cosine only); `hybrid-blend`: today's hybrid (0.7 cosine + 0.3 lemma overlap); `fused`: the
    vector ranking and BM25 over lemmas + concept tokens, fused by reciprocal rank, the head
    re-ordered by concept coverage. `variant`: the queries as written or altered (`query_variant`)."""
    from prophecy.engine.lexical import query_terms

    started = time.perf_counter()
    cases, index, provider = prepared or corpus_index(provider_name)
    topic_of = {c["id"]: c["topic"] for c in cases}
    queries = [{**q, "text": query_variant(q["text"], variant)}
               for q in json.loads(RETRIEVAL_SPLITS[split].read_text(encoding="utf-8"))["queries"]]
    query_vectors = provider.embed([q["text"] for q in queries])
    recalls, ranks = [], []
    for q, qv in zip(queries, query_vectors, strict=True):
        if method == "fused":
            ranked = [i for i, _ in index.search_hybrid(qv, query_terms(q["text"]), limit=len(cases))]
        else:
            found = index.search(qv, limit=len(cases), exact=True)
            if method == "hybrid-blend":
                terms = set(lemmas(q["text"]))
                found = sorted(found, key=lambda x: -(0.7 * x[1] + 0.3 * (
                    len(terms & set(index.keywords[index._pos[x[0]]])) / len(terms) if terms else 0.0)))
            ranked = [i for i, _ in found]
        relevant = {c["id"] for c in cases if c["topic"] == q["topic"]}
        recalls.append(len(set(ranked[:k]) & relevant) / min(k, len(relevant)))
        first = next((r for r, i in enumerate(ranked, start=1) if topic_of[i] == q["topic"]), None)
        ranks.append(1.0 / first if first else 0.0)
    return Quality(f"{method}/{split}/{variant}", float(np.mean(recalls)), float(np.mean(ranks)), len(recalls),
                   time.perf_counter() - started)
