"""Language of a text, detected offline and in batches (issue 4, point 2: "language").

The model is py3langid's (a maintained fork of langid.py, Lui & Baldwin 2012; BSD licence): a byte
n-gram naive Bayes over 140+ languages, shipped inside the ``py3langid`` package (no download).
py3langid classifies one text at a time with a Python loop over its bytes (~4–5 k tweets/s here); this
module runs *the same model and the same arithmetic* over a whole batch with numpy:

* the texts are NFC-normalized (and lower-cased when fully upper-case, as py3langid does) with
  ``pyarrow.compute`` and encoded to one UTF-8 buffer with offsets (Arrow's own layout);
* the model's byte automaton (``tk_nextmove``/``tk_output``) is stepped for all texts at once, one
  numpy step per byte *position* (texts sorted by length, so the live texts are a prefix) — the loop
  runs max-length times, not once per text;
* feature counts become a sparse matrix; scores = log1p(counts) @ P(t|c) + P(c), argmax per row.

The result equals ``py3langid.classify`` text for text (checked in tests/test_language.py).
``langs`` restricts the candidate languages (py3langid's ``set_languages``), which helps on short posts.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from socialleads.errors import LeadsError, NotInstalled

CHUNK = 50_000  # texts per internal step: bounds the (text, feature) pairs held at once
RAW_FLOOR = float(np.finfo(np.float32).min)


class LanguageError(LeadsError):
    """Bad input to the language detector (e.g. an unknown language code)."""


@lru_cache(maxsize=1)
def _model() -> dict[str, Any]:
    try:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]
    except ImportError as exc:
        raise NotInstalled("language detection needs py3langid: pip install py3langid") from exc
    ident = LanguageIdentifier.from_model_file(MODEL_FILE)
    return {"ptc": np.asarray(ident.nb_ptc, np.float32), "pc": np.asarray(ident.nb_pc, np.float32),
            "classes": np.asarray(ident.nb_classes, dtype=object),
            "nextmove": np.asarray(ident.tk_nextmove, np.int64),
            "rowbase": np.asarray(ident.tk_row, np.int64) << 8,
            "output": np.asarray(ident.tk_output, np.int64)}


def languages() -> list[str]:
    """The language codes the detector knows (ISO 639-1 where one exists)."""
    return list(dict.fromkeys(_model()["classes"].tolist()))


@lru_cache(maxsize=8)
def _columns(langs: tuple[str, ...] | None) -> np.ndarray:
    classes = _model()["classes"]
    if langs is None:
        return np.arange(len(classes))
    unknown = sorted(set(langs) - set(classes.tolist()))
    if unknown:
        raise LanguageError(f"unknown language code(s) {', '.join(unknown)}; known: {', '.join(languages())}")
    return np.flatnonzero(np.isin(classes, list(langs)))


def _encode(texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(UTF-8 bytes, offsets) of the texts after py3langid's normalization (vectorized)."""
    t = pc.fill_null(texts, "")
    t = pc.if_else(pc.utf8_is_upper(t), pc.utf8_lower(t), t)
    t = pc.utf8_normalize(t, "NFC")
    arr = pa.concat_arrays(t.chunks) if isinstance(t, pa.ChunkedArray) else t
    arr = arr.cast(pa.large_string())
    offsets = np.frombuffer(arr.buffers()[1], np.int64)[arr.offset: arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], np.uint8) if arr.buffers()[2] is not None else np.zeros(0, np.uint8)
    return data, offsets


def _features(data: np.ndarray, offsets: np.ndarray, n_features: int) -> sp.csr_matrix:
    """Feature counts (texts × features) by stepping the model's automaton over all texts at once."""
    m = _model()
    nextmove, rowbase, output = m["nextmove"], m["rowbase"], m["output"]
    n = len(offsets) - 1
    starts = offsets[:-1]
    lengths = np.diff(offsets)
    order = np.argsort(-lengths, kind="stable")
    st, ln = starts[order], lengths[order]
    state = np.zeros(n, np.int64)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    maxlen = int(ln[0]) if n else 0
    alive = n
    for p in range(maxlen):  # one step per byte position, over every text still that long
        while alive and ln[alive - 1] <= p:
            alive -= 1
        s = state[:alive]
        s = nextmove[rowbase[s] + data[st[:alive] + p]]
        state[:alive] = s
        f = output[s]
        hit = np.flatnonzero(f >= 0)
        if len(hit):
            rows.append(hit)
            cols.append(f[hit])
    if not rows:
        return sp.csr_matrix((n, n_features), dtype=np.float32)
    r = order[np.concatenate(rows)]
    c = np.concatenate(cols)
    x = sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=(n, n_features))
    x.sum_duplicates()
    return x


def detect(texts: Sequence[str | None] | pa.Array, langs: Sequence[str] | None = None
           ) -> tuple[np.ndarray, np.ndarray]:
    """(language code, confidence) of each text; code None for a NULL or blank text.

    Confidence is the normalized probability of the chosen language (py3langid's ``norm_probs``).
    """
    arr = texts if isinstance(texts, pa.Array | pa.ChunkedArray) else pa.array(list(texts), pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    m = _model()
    cols = _columns(tuple(sorted(langs)) if langs is not None else None)
    classes = m["classes"][cols]
    ptc, pcl = m["ptc"][:, cols], m["pc"][cols]
    # py3langid's script aliases (e.g. 'sr' in Latin and Cyrillic): keep the best column of each label
    first: dict[str, int] = {}
    alias = []
    for i, c in enumerate(classes.tolist()):  # ≤ 142 classes
        if c in first:
            alias.append((first[c], i))
        else:
            first[c] = i
    n = len(arr)
    code = np.full(n, None, dtype=object)
    conf = np.full(n, np.nan)
    blank = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(arr), ""), True).to_numpy(zero_copy_only=False)
    for lo in range(0, n, CHUNK):  # bounded memory
        part = arr.slice(lo, CHUNK)
        data, offsets = _encode(part)
        x = _features(data, offsets, ptc.shape[0])
        x.data = np.log1p(x.data)
        score = np.asarray(x @ ptc, np.float32) + pcl
        empty = np.diff(x.indptr) == 0
        score[empty] = RAW_FLOOR
        for i, j in alias:
            score[:, i] = np.maximum(score[:, i], score[:, j])
            score[:, j] = RAW_FLOOR
        best = np.argmax(score, axis=1)
        # normalized probability as py3langid's norm_probs: scores scaled by 1/sqrt(bytes), softmax
        nbytes = np.maximum(np.diff(offsets), 1).astype(np.float32)
        z = score / np.sqrt(nbytes)[:, None]
        z = np.exp(z - z.max(axis=1, keepdims=True))
        p = z[np.arange(len(best)), best] / z.sum(axis=1)
        code[lo: lo + len(best)] = classes[best]
        conf[lo: lo + len(best)] = np.where(empty, np.nan, p)
    code[blank] = None
    conf[blank] = np.nan
    return code, conf


__all__ = ["LanguageError", "detect", "languages"]
