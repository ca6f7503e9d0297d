"""Lexical retrieval over lemmas and the bilingual vocabulary's concept tokens (BM25), and its
fusion with the vector ranking (reciprocal rank fusion). Pure Python + numpy.

Why fuse ranks rather than scores: a cosine and a BM25 score live on different scales that move
with the corpus and the query length; adding them (the old `alpha` blend) let whichever was
larger win. Reciprocal rank fusion only reads positions, so a text that both rankings put near
the top wins, and one that only one ranking likes still comes up.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

from hvaccrm.text import text_fold
from prophecy.engine.features import STOP_WORDS, lemmas, word_known
from prophecy.engine.vocabulary import (
    CONCEPT_PREFIX,
    FUZZY_MIN_STEM,
    concept_token,
    concept_tokens,
    concepts_fuzzy,
)

# Tuned on the dev split only (bench/bench_prophecy.py prints both splits).
CONCEPT_WEIGHT = 8.0
RRF_K = 10
VECTOR_WEIGHT = 1.0
LEXICAL_WEIGHT = 8.0
BM25_K1 = 1.2
BM25_B = 0.5
# Second stage (chosen on dev by cross-validation): the first RERANK_HEAD fused hits re-ordered by
# fused score / best possible fused score + COVERAGE_WEIGHT * the Jaccard overlap of the query's
# and the text's concepts, so a text that names the query's problem and little else comes first.
RERANK_HEAD = 20
COVERAGE_WEIGHT = 0.37
# At most this many unknown words of a query are read at one edit (a long query of gibberish
# costs no more than a short one).
FUZZY_MAX_WORDS = 12
_WORDS = re.compile(r"[^\W\d_]+")


def query_concepts(text: str) -> list[str]:
    """The query's concept tokens: those the vocabulary reads, plus, for a word the lemmatiser does
    not know (a typo: "klematyzacja", "drpiping") and that names no concept, the concepts of the
    stems one edit away from it (engine/vocabulary.py `concepts_fuzzy`)."""
    tokens = dict.fromkeys(concept_tokens(text))
    unknown = [w for w in dict.fromkeys(_WORDS.findall((text or "").lower()))
               if len(w) >= FUZZY_MIN_STEM and w not in STOP_WORDS and not word_known(w)]
    for raw in unknown[:FUZZY_MAX_WORDS]:
        for concept in sorted(concepts_fuzzy(text_fold(raw))):
            tokens.setdefault(concept_token(concept))
    return list(tokens)


def query_terms(text: str) -> dict[str, float]:
    """The query's lemmas (the same filter as a document's keywords) and its concept tokens, each
    with its weight: the concept tokens are the query's expansion into the other language."""
    terms: dict[str, float] = {}
    for word in lemmas(text):
        if len(word) >= 3 and not word.startswith("["):
            terms[word] = 1.0
    for token in query_concepts(text):
        terms[token] = CONCEPT_WEIGHT
    return terms


def query_expanded_text(text: str) -> str:
    """The query as text for a backend that tokenizes by itself (Weaviate's BM25): the words plus
    the concept tokens the stored keywords carry."""
    tokens = query_concepts(text)
    return " ".join([text.strip(), *tokens]) if tokens else text.strip()


def concept_coverage(query_concepts: set[str], keywords: Iterable[str]) -> float:
    """Jaccard overlap of the query's concept tokens and a text's (0..1)."""
    if not query_concepts:
        return 0.0
    mine = {k for k in keywords if is_concept(k)}
    return len(query_concepts & mine) / len(query_concepts | mine)


def coverage_rerank(fused: list[tuple[str, float]], *, query_concepts: set[str], keywords_of,
                    best: float, head: int = RERANK_HEAD) -> list[tuple[str, float]]:
    """The first `head` fused hits re-ordered by fused / best + COVERAGE_WEIGHT * concept coverage
    (`keywords_of(id)` gives a hit's keywords, `best` is the highest fused score possible, so the
    weight means the same for any fusion's scale); the rest keep their order. Scores are the new
    ones for the head, the fused ones scaled by 1 / best for the rest."""
    if not query_concepts or not fused or best <= 0:
        return fused
    top = [(id_, score / best + COVERAGE_WEIGHT * concept_coverage(query_concepts, keywords_of(id_)))
           for id_, score in fused[:head]]
    top.sort(key=lambda item: -item[1])
    return top + [(id_, score / best) for id_, score in fused[head:]]


def is_concept(term: str) -> bool:
    return term.startswith(CONCEPT_PREFIX) and term[len(CONCEPT_PREFIX):].isalpha()


class Bm25:
    """BM25 over term sets kept by position (positions are the vector index's rows), with adds,
    replacements and removals. Terms are counted once per text (keywords are distinct)."""

    def __init__(self, *, k1: float = BM25_K1, b: float = BM25_B) -> None:
        self.k1, self.b = k1, b
        self._postings: dict[str, set[int]] = defaultdict(set)
        self._terms: dict[int, tuple[str, ...]] = {}
        self._length_total = 0
        self._arrays: dict[str, np.ndarray] = {}
        self._lengths = np.zeros(1024, dtype=np.float32)

    def __len__(self) -> int:
        return len(self._terms)

    def set(self, position: int, terms: Iterable[str]) -> None:
        self.remove(position)
        # Folded (case, diacritics): "sciana" typed without them finds "ściana".
        unique = tuple(dict.fromkeys(text_fold(t) for t in terms))
        self._terms[position] = unique
        self._length_total += len(unique)
        if position >= len(self._lengths):
            grown = np.zeros(max(position + 1, 2 * len(self._lengths)), dtype=np.float32)
            grown[: len(self._lengths)] = self._lengths
            self._lengths = grown
        self._lengths[position] = len(unique)
        for term in unique:
            self._postings[term].add(position)
            self._arrays.pop(term, None)

    def remove(self, position: int) -> None:
        old = self._terms.pop(position, None)
        if old is None:
            return
        self._length_total -= len(old)
        self._lengths[position] = 0
        for term in old:
            self._postings[term].discard(position)
            self._arrays.pop(term, None)

    def _posting(self, term: str) -> np.ndarray:
        arr = self._arrays.get(term)
        if arr is None:
            arr = np.fromiter(self._postings.get(term, ()), dtype=np.int64)
            self._arrays[term] = arr
        return arr

    def scores(self, terms: dict[str, float], *, size: int) -> np.ndarray:
        """BM25 score of every position below `size` (0 where no term matches)."""
        out = np.zeros(size, dtype=np.float32)
        n = len(self._terms)
        if not n or not terms:
            return out
        avg = max(1e-6, self._length_total / n)
        folded: dict[str, float] = {}
        for term, weight in terms.items():
            key = text_fold(term)
            folded[key] = max(weight, folded.get(key, 0.0))
        for term, weight in folded.items():
            posting = self._posting(term)
            posting = posting[posting < size]
            if not len(posting):
                continue
            idf = math.log(1.0 + (n - len(posting) + 0.5) / (len(posting) + 0.5))
            norm = self.k1 * (1 - self.b + self.b * self._lengths[posting] / avg)
            out[posting] += weight * idf * (self.k1 + 1) / (1 + norm)
        return out


def rrf_fuse(rankings: Sequence[Sequence[str]], *, weights: Sequence[float] | None = None,
             k: int = RRF_K) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: each id scores sum(weight / (k + rank)) over the rankings it is in
    (rank from 1), best first; ties keep the first ranking's order."""
    weights = weights or [1.0] * len(rankings)
    fused: dict[str, float] = {}
    first_seen: dict[str, tuple[int, int]] = {}
    for which, (ranking, weight) in enumerate(zip(rankings, weights, strict=True)):
        for rank, id_ in enumerate(ranking, start=1):
            fused[id_] = fused.get(id_, 0.0) + weight / (k + rank)
            first_seen.setdefault(id_, (which, rank))
    return sorted(fused.items(), key=lambda item: (-item[1], first_seen[item[0]]))


def top_positions(scores: np.ndarray, *, limit: int, valid: np.ndarray | None = None) -> list[int]:
    """Positions of the `limit` highest positive scores (best first), within `valid` if given."""
    if valid is not None:
        scores = np.where(valid, scores, 0.0)
    candidates = np.flatnonzero(scores > 0)
    if not len(candidates):
        return []
    k = min(limit, len(candidates))
    top = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
    return top[np.argsort(-scores[top], kind="stable")].tolist()
