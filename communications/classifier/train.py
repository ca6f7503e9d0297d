"""Training and scoring of the triage model (seeded; about a minute on two cores).

Tuning happens only by grouped cross-validation on the training split: a group is a paraphrase
family (or a hash bucket of hand-written texts), so a fold's validation messages are phrased in
ways its training never saw, as in the frozen test split. The frozen split is only ever scored.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from communications.classifier import corpus
from communications.classifier.model import LABELS, MODEL_FILE, TriageModel, embed, prepare, sklearn_version
from communications.classifier.triage import ORDER, rule_floor

SEED = 7
PARAMS = {"C": 16.0, "embedding_weight": 1.0, "ngram_range": (2, 5), "max_features": 30000}
RECALL_TARGET = 0.97  # the emergency threshold: the highest keeping this recall (model + rules) in cross-validation


@dataclass
class Scores:
    emergency_recall: float
    emergency_precision: float
    macro_f1: float
    n: int

    def as_dict(self) -> dict:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def scores(truth: list[str], predicted: list[str]) -> Scores:
    from sklearn.metrics import f1_score

    tp = sum(t == p == "emergency" for t, p in zip(truth, predicted, strict=True))
    fp = sum(p == "emergency" != t for t, p in zip(truth, predicted, strict=True))
    fn = sum(t == "emergency" != p for t, p in zip(truth, predicted, strict=True))
    return Scores(
        emergency_recall=tp / (tp + fn) if tp + fn else 1.0,
        emergency_precision=tp / (tp + fp) if tp + fp else 1.0,
        macro_f1=float(f1_score(truth, predicted, labels=list(LABELS), average="macro", zero_division=0)),
        n=len(truth),
    )


def _fit(texts: list[str], labels: list[str], vectors: np.ndarray, params: dict) -> tuple[object, object]:
    from scipy.sparse import csr_matrix, hstack
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=params["ngram_range"], sublinear_tf=True,
                                 min_df=2, max_features=params["max_features"], dtype=np.float32)
    grams = vectorizer.fit_transform([prepare(t) for t in texts])
    x = hstack([grams, csr_matrix(vectors * params["embedding_weight"])]).tocsr()
    base = LogisticRegression(C=params["C"], class_weight="balanced", max_iter=3000, random_state=SEED)
    classifier = CalibratedClassifierCV(base, method="sigmoid", cv=5)
    classifier.fit(x, labels)
    return vectorizer, classifier


def groups_of(rows: list[corpus.Row]) -> list[str]:
    """A family is one group; hand-written texts and the office's corrections fall into 20 buckets by hash."""
    return [r.source if r.source not in ("hand", "hand-train", "correction")
            else f"{r.source}:{hashlib.sha256(r.text.encode()).digest()[1] % 20}" for r in rows]


def _model(vectorizer, classifier, params: dict, texts, labels, vectors, emergency_threshold, high_threshold) -> TriageModel:
    return TriageModel(
        vectorizer=vectorizer, classifier=classifier, embedding_weight=params["embedding_weight"],
        emergency_threshold=emergency_threshold, high_threshold=high_threshold,
        neighbour_vectors=vectors.astype(np.float16), neighbour_texts=list(texts), neighbour_labels=list(labels),
    )


def cross_validated_probabilities(rows: list[corpus.Row], vectors: np.ndarray, params: dict, folds: int = 5) -> np.ndarray:
    """Out-of-fold P(normal, high, emergency) for every row (grouped folds)."""
    from sklearn.model_selection import GroupKFold

    texts, labels = [r.text for r in rows], [r.label for r in rows]
    out = np.zeros((len(rows), 3))
    for fit_idx, val_idx in GroupKFold(n_splits=folds).split(texts, labels, groups_of(rows)):
        vectorizer, classifier = _fit([texts[i] for i in fit_idx], [labels[i] for i in fit_idx], vectors[fit_idx], params)
        model = _model(vectorizer, classifier, params, [], [], np.zeros((0, 512)), 0.5, 0.5)
        out[val_idx], _ = model.probabilities([texts[i] for i in val_idx], vectors[val_idx])
    return out


def combine(model_urgency: list[str], floor: list[str]) -> list[str]:
    return [max(a, b, key=ORDER.__getitem__) for a, b in zip(model_urgency, floor, strict=True)]


def thresholds(labels: list[str], proba: np.ndarray, floor: list[str]) -> tuple[float, float]:
    """The emergency threshold: the highest whose decisions, raised by the rules, keep RECALL_TARGET;
    the high threshold: the best macro-F1 at that emergency threshold."""
    def decided(emergency_threshold: float, high_threshold: float) -> list[str]:
        probe = _model(None, None, PARAMS, [], [], np.zeros((0, 512)), emergency_threshold, high_threshold)
        return combine(probe.decide(proba), floor)

    emergency_threshold = 0.05
    for candidate in np.arange(0.9, 0.04, -0.025):
        if scores(labels, decided(float(candidate), 0.5)).emergency_recall >= RECALL_TARGET:
            emergency_threshold = float(candidate)
            break
    candidates = np.arange(0.2, 0.8, 0.025)
    f1 = [scores(labels, decided(emergency_threshold, float(c))).macro_f1 for c in candidates]
    return emergency_threshold, float(candidates[int(np.argmax(f1))])


def train(rows: list[corpus.Row], *, params: dict | None = None,
          log: Callable[[str], None] = lambda _s: None) -> TriageModel:
    """Cross-validate the thresholds, then fit on all rows."""
    params = {**PARAMS, **(params or {})}
    started = time.monotonic()
    texts, labels = [r.text for r in rows], [r.label for r in rows]
    vectors = embed(texts)
    proba = cross_validated_probabilities(rows, vectors, params)
    floor = [rule_floor(t)[1] for t in texts]
    emergency_threshold, high_threshold = thresholds(labels, proba, floor)
    model = _model(None, None, params, texts, labels, vectors, emergency_threshold, high_threshold)
    cv = scores(labels, combine(model.decide(proba), floor))
    log(f"cross-validation (grouped by family, 5 folds, with the rules): {cv.as_dict()}; thresholds emergency {emergency_threshold:.3f} "
        f"high {high_threshold:.3f}")
    model.vectorizer, model.classifier = _fit(texts, labels, vectors, params)
    model.meta = {"sklearn": sklearn_version(), "trained_on": len(rows), "params": {**params, "ngram_range": list(params["ngram_range"])},
                  "cross_validation": cv.as_dict(), "seconds": round(time.monotonic() - started, 1)}
    return model


def save(model: TriageModel, path: Path = MODEL_FILE) -> None:
    import joblib

    meta = dict(model.meta)
    model.meta = {}
    joblib.dump(model, path, compress=3)
    model.meta = meta
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def evaluate(model: TriageModel, rows: list[corpus.Row]) -> Scores:
    """The figures of model + rules on labelled rows (the frozen split, normally)."""
    texts = [r.text for r in rows]
    proba, _vectors = model.probabilities(texts)
    return scores([r.label for r in rows], combine(model.decide(proba), [rule_floor(t)[1] for t in texts]))
