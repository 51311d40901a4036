"""Emotion per text (TweetEval emotion: anger / joy / optimism / sadness), shipped with the package.

A multinomial linear model over the same hashed unigram + bigram features as the sentiment scorer
(``socialleads.listen.sentiment._parts``, 2**18 buckets), so ``enrich`` tokenizes a batch once and
scores both signals from the same features. The weights (``emotion_model.npz``, float16, < 1 MB) are
trained by ``python -m socialleads.listen.emotion_train ../shared/data/sentiment`` from TweetEval
emotion *train* only (val picks the L2 strength; test is reported, never trained on).
Trained on English tweets: ``enrich`` scores posts whose language is English or unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from socialleads.errors import LeadsError
from socialleads.listen.sentiment import (
    BATCH_CHARS,
    DEFAULT_BITS,
    _parts,
    _row_sums,
    _softmax,
    _stacked,
    load_packaged,
)

EMOTIONS = np.array(["anger", "joy", "optimism", "sadness"])
_NAME = "emotion_model.npz"


class EmotionError(LeadsError):
    """Bad input to the emotion scorer, or a model file it cannot use."""


@dataclass(frozen=True)
class EmotionModel:
    """Weights ``w`` (2**bits × 4) and bias ``b`` (4) over hashed unigram + bigram features."""

    w: np.ndarray
    b: np.ndarray
    bits: int

    def save(self, path: str | Path) -> None:
        np.savez_compressed(path, w=self.w.astype(np.float16), b=self.b.astype(np.float32), bits=np.int64(self.bits),
                            labels=EMOTIONS)

    @classmethod
    def load(cls, path: str | Path) -> EmotionModel:
        try:
            with np.load(path, allow_pickle=False) as z:
                w, b, bits = z["w"].astype(np.float32), z["b"].astype(np.float32), int(z["bits"])
        except (OSError, KeyError, ValueError) as e:
            raise EmotionError(f"{path}: not an emotion model file ({e})") from None
        if w.shape != (1 << bits, len(EMOTIONS)) or b.shape != (len(EMOTIONS),):
            raise EmotionError(f"{path}: model arrays have the wrong shape {w.shape}, {b.shape}")
        return cls(w=w, b=b, bits=bits)

    def proba_from_parts(self, rows: np.ndarray, keys: np.ndarray, scale: np.ndarray, n: int) -> np.ndarray:
        """Class probabilities from the hashed features of ``_parts`` (texts × 4)."""
        return self.proba_from_sums(_row_sums(rows, keys, _stacked(self), n), scale)

    def proba_from_sums(self, lin: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """Class probabilities (float64) from the row sums of ``w`` (``sentiment._row_sums``)."""
        z = self.b.astype(np.float64) + lin * scale.astype(np.float64)[:, None]
        return _softmax(z)


@lru_cache(maxsize=1)
def default_emotion_model() -> EmotionModel:
    """The model shipped inside the package."""
    return load_packaged(_NAME, EmotionModel.load, EmotionError, "emotion")


def emotion_proba(texts: Sequence[str], model: EmotionModel | None = None) -> np.ndarray:
    """Class probabilities (texts × 4, columns in ``EMOTIONS`` order), in bounded internal batches."""
    if isinstance(texts, str):
        raise EmotionError("score_emotions takes a list of texts, not a single string")
    items = list(texts)
    if not all(isinstance(t, str) for t in items):
        i = next(i for i, t in enumerate(items) if not isinstance(t, str))
        raise EmotionError(f"texts must be strings; item {i} is {type(items[i]).__name__}")
    mdl = model or default_emotion_model()
    out = np.empty((len(items), len(EMOTIONS)), np.float64)
    if not items:
        return out
    ends = np.cumsum(np.fromiter(map(len, items), dtype=np.int64, count=len(items)))
    cut = np.searchsorted(ends, np.arange(BATCH_CHARS, int(ends[-1]), BATCH_CHARS))
    bounds = np.unique(np.concatenate([[0], np.minimum(cut + 1, len(items)), [len(items)]]))
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        rows, keys, scale, _ = _parts(items[a:b], mdl.bits, None)
        out[a:b] = mdl.proba_from_parts(rows, keys, scale, b - a)
    return out


def score_emotions(texts: Sequence[str], model: EmotionModel | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(emotion label, probability of that label) of each text."""
    p = emotion_proba(texts, model)
    best = p.argmax(axis=1)
    return EMOTIONS[best], p[np.arange(len(best)), best].astype(np.float64)


__all__ = ["DEFAULT_BITS", "EMOTIONS", "EmotionError", "EmotionModel", "default_emotion_model", "emotion_proba",
           "score_emotions"]
