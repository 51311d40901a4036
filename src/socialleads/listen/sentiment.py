"""The default sentiment scorer: a hashed bag of words and bigrams with a multinomial linear model.

METRICS.md §1 "sentiment": per post a label (negative / neutral / positive) and a score in [−1, 1].

Why this shape: the scorer ships with the package (``sentiment_model.npz``, a few hundred KB, no
download at run time) and runs over whole batches with numpy and scipy.sparse — there is no Python
loop per text. The texts of a batch are joined into one string, decoded to an array of code points,
cut into tokens by character class, and every token (and every pair of neighbouring tokens) is hashed
with a polynomial hash computed from prefix sums, so tokenization, hashing and scoring are all array
operations. Accuracy is measured, not assumed: ``benchmarks/bench_sentiment.py`` compares it with the
vaderSentiment package on the TweetEval sentiment test split, in the same run.

``train()`` rebuilds the shipped model from the labelled data in ``../shared/data/sentiment`` (see
its docstring for what it reads and what it must never read).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from socialleads.errors import LeadsError

LABELS = np.array(["negative", "neutral", "positive"])
DEFAULT_BITS = 18
BATCH_CHARS = 4_000_000  # code points per internal batch: bounds memory to ~0.3 GB whatever the input

_P = np.uint64(1_000_003)  # odd, so invertible modulo 2**64
_P_INV = np.uint64(pow(1_000_003, -1, 2**64))
_MIX = np.uint64(0x9E3779B97F4A7C15)
_BIGRAM = np.uint64(0xC2B2AE3D27D4EB4F)
_NAME = "sentiment_model.npz"


class SentimentError(LeadsError):
    """Bad input to the sentiment scorer, or a model file it cannot use."""


@dataclass(frozen=True)
class LinearModel:
    """Weights ``w`` (2**bits × 3) and bias ``b`` (3) over hashed unigram + bigram features."""

    w: np.ndarray
    b: np.ndarray
    bits: int

    def save(self, path: str | Path) -> None:
        np.savez_compressed(path, w=self.w.astype(np.float16), b=self.b.astype(np.float32),
                            bits=np.int64(self.bits), labels=LABELS)

    @classmethod
    def load(cls, path: str | Path) -> LinearModel:
        try:
            with np.load(path, allow_pickle=False) as z:
                w, b, bits = z["w"].astype(np.float32), z["b"].astype(np.float32), int(z["bits"])
        except (OSError, KeyError, ValueError) as e:
            raise SentimentError(f"{path}: not a sentiment model file ({e})") from None
        if w.shape != (1 << bits, 3) or b.shape != (3,):
            raise SentimentError(f"{path}: model arrays have the wrong shape {w.shape}, {b.shape}")
        return cls(w=w, b=b, bits=bits)


@lru_cache(maxsize=1)
def default_model() -> LinearModel:
    """The model shipped inside the package."""
    ref = resources.files("socialleads.listen").joinpath(_NAME)
    with resources.as_file(ref) as path:
        if not path.exists():
            raise SentimentError(f"the packaged sentiment model {_NAME} is missing; reinstall socialleads")
        return LinearModel.load(path)


# ------------------------------------------------------------------------------------------ features
def _char_classes(cp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(word, single): code points that form words, and those that are a token on their own."""
    word = ((cp >= 0x61) & (cp <= 0x7A)) | ((cp >= 0x30) & (cp <= 0x39)) | (cp == 0x5F) | (cp == 0x27)
    # letters of Latin-1, Latin extended, Greek, Cyrillic, Hebrew, Arabic, Indic scripts …
    word |= (cp >= 0xC0) & (cp < 0x2000) & (cp != 0xD7) & (cp != 0xF7)
    single = (cp == 0x21) | (cp == 0x3F)  # ! and ?
    # emoji, symbols and CJK: one token per code point (not ZWJ, variation selectors, skin tones)
    single |= (cp >= 0x2190) & ~((cp >= 0xFE00) & (cp <= 0xFE0F)) & ~((cp >= 0x1F3FB) & (cp <= 0x1F3FF))
    return word, single


def _token_hashes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(doc index, 64-bit hash) of every token of every text, in reading order."""
    n = len(texts)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.uint64)
    joined = "\n".join(texts).lower().replace("\u2019", "'")
    cp = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n)
    if len(cp) != lengths.sum() + n - 1:  # lower() changed some lengths (rare letters): per-text fallback
        cp = np.frombuffer("\n".join(t.lower() for t in texts).replace("\u2019", "'").encode("utf-32-le"),
                           dtype=np.uint32)
        lengths = np.fromiter((len(t.lower()) for t in texts), dtype=np.int64, count=n)
    word, single = _char_classes(cp)
    m = len(cp)
    prev_word = np.concatenate([[False], word[:-1]])
    next_word = np.concatenate([word[1:], [False]])
    starts = np.flatnonzero((word & ~prev_word) | single)
    # end (exclusive) of each token: a single code point, or the end of its word run
    run_end = np.flatnonzero(word & ~next_word) + 1
    ends = np.where(single[starts], starts + 1, run_end[np.searchsorted(run_end, starts)]
                    if len(run_end) else starts + 1)
    if len(starts) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.uint64)
    with np.errstate(over="ignore"):
        pw = np.empty(m, np.uint64)
        pw[0] = 1
        pw[1:] = _P
        pw = np.cumprod(pw)
        ipw = np.empty(m, np.uint64)
        ipw[0] = 1
        ipw[1:] = _P_INV
        ipw = np.cumprod(ipw)
        pref = np.concatenate([[np.uint64(0)], np.cumsum((cp.astype(np.uint64) + np.uint64(1)) * pw)])
        h = (pref[ends] - pref[starts]) * ipw[starts]
        h = (h + (ends - starts).astype(np.uint64)) * _MIX
        h ^= h >> np.uint64(31)
    doc_start = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]])
    doc = np.searchsorted(doc_start, starts, side="right") - 1
    return doc.astype(np.int64), h


def features(texts: Sequence[str], bits: int = DEFAULT_BITS) -> sp.csr_matrix:
    """Hashed unigram + bigram counts, each row scaled to unit L2 norm (texts × 2**bits)."""
    n = len(texts)
    doc, h = _token_hashes(texts)
    same = doc[1:] == doc[:-1]
    with np.errstate(over="ignore"):
        h2 = (h[:-1] * _BIGRAM + h[1:]) * _MIX
        h2 ^= h2 >> np.uint64(29)
    rows = np.concatenate([doc, doc[1:][same]])
    keys = np.concatenate([h, h2[same]]) >> np.uint64(64 - bits)
    x = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, keys.astype(np.int64))),
                      shape=(n, 1 << bits), dtype=np.float32)
    x.sum_duplicates()
    x.data = np.log1p(x.data)
    norm = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    norm[norm == 0] = 1.0
    return sp.csr_matrix(sp.diags((1.0 / norm).astype(np.float32)) @ x)


# ------------------------------------------------------------------------------------------- scoring
def _check(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise SentimentError("score_texts takes a list of texts, not a single string")
    out = list(texts)
    bad = [i for i, t in enumerate(out) if not isinstance(t, str)] if not all(
        isinstance(t, str) for t in out) else []
    if bad:
        raise SentimentError(f"texts must be strings; item {bad[0]} is {type(out[bad[0]]).__name__}")
    return out


def predict_proba(texts: Sequence[str], model: LinearModel | None = None) -> np.ndarray:
    """Class probabilities (texts × 3, columns in ``LABELS`` order)."""
    items = _check(texts)
    mdl = model or default_model()
    out = np.empty((len(items), 3), np.float32)
    # internal batches keep memory bounded; a handful of batches per million texts, not one per text
    lengths = np.fromiter(map(len, items), dtype=np.int64, count=len(items))
    cut = np.searchsorted(np.cumsum(lengths), np.arange(BATCH_CHARS, lengths.sum() + BATCH_CHARS, BATCH_CHARS))
    bounds = np.unique(np.concatenate([[0], np.minimum(cut + 1, len(items)), [len(items)]]))
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        z = features(items[a:b], mdl.bits) @ mdl.w + mdl.b
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        out[a:b] = e / e.sum(axis=1, keepdims=True)
    return out


def score_texts(texts: Sequence[str], model: LinearModel | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Label each text negative / neutral / positive and give a score in [−1, 1].

    The score is P(positive) − P(negative); the label is the most probable class.
    """
    p = predict_proba(texts, model)
    return LABELS[p.argmax(axis=1)], (p[:, 2] - p[:, 0]).astype(np.float64)


# ------------------------------------------------------------------------------------------ training
def fit(texts: Sequence[str], y: np.ndarray, bits: int = DEFAULT_BITS, l2: float = 1e-4,
        sample_weight: np.ndarray | None = None, max_iter: int = 300) -> LinearModel:
    """Multinomial logistic regression (L-BFGS) on hashed features; classes balanced by weight."""
    from scipy.optimize import minimize

    y = np.asarray(y, np.int64)
    if len(texts) != len(y) or len(y) == 0:
        raise SentimentError(f"fit needs as many labels as texts (got {len(texts)} texts, {len(y)} labels)")
    if y.min() < 0 or y.max() > 2:
        raise SentimentError("labels must be 0 (negative), 1 (neutral) or 2 (positive)")
    x = features(texts, bits)
    n, d = x.shape
    counts = np.bincount(y, minlength=3).astype(np.float64)
    cw = np.where(counts > 0, n / (3 * np.maximum(counts, 1)), 0.0)
    sw = cw[y] * (np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64))
    sw = sw / sw.sum()
    onehot = np.eye(3)[y]
    used = np.unique(x.indices)  # optimize only the columns that occur: the rest stay 0
    xu = sp.csr_matrix(x[:, used], dtype=np.float64)
    k = len(used)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[: 3 * k].reshape(k, 3), theta[3 * k:]
        z = xu @ w + b
        z -= z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z).sum(axis=1))
        logp = z - lse[:, None]
        val = -(sw * (logp * onehot).sum(axis=1)).sum() + 0.5 * l2 * (w * w).sum()
        g = (np.exp(logp) - onehot) * sw[:, None]
        gw = np.asarray(xu.T @ g) + l2 * w
        return float(val), np.concatenate([gw.ravel(), g.sum(axis=0)])

    res = minimize(loss, np.zeros(3 * k + 3), jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    w = np.zeros((d, 3), np.float32)
    w[used] = res.x[: 3 * k].reshape(k, 3)
    return LinearModel(w=w, b=res.x[3 * k:].astype(np.float32), bits=bits)


def _read_split(folder: Path, split: str) -> tuple[list[str], np.ndarray]:
    text = (folder / f"{split}_text.txt").read_text(encoding="utf-8").split("\n")
    labels = np.array((folder / f"{split}_labels.txt").read_text(encoding="utf-8").split(), np.int64)
    return text[: len(labels)], labels


def _norm(t: str) -> str:
    return re.sub(r"\s+", " ", t.strip().lower())


def training_data(data_dir: str | Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(texts, labels, weights) for the shipped model, read from ``../shared/data/sentiment``.

    TweetEval's sentiment *train* text is absent from the shared snapshot (only its labels are there),
    so the model learns from: TweetEval sentiment ``val`` (2,000 English tweets); the UMSAB (XLM-T)
    ``train`` splits of all 8 languages; and TweetEval ``emotion`` train+val as weak polarity labels
    (anger, sadness → negative; joy, optimism → positive; weight 0.5). Any text that also occurs in the
    TweetEval sentiment *test* split (after lower-casing and collapsing spaces) is dropped, so the test
    split stays unseen; UMSAB English ``test`` is a subset of it and is never read.
    """
    root = Path(data_dir)
    te = root / "tweeteval"
    test_text, _ = _read_split(te / "sentiment", "test")
    held_out = set(map(_norm, test_text))
    texts: list[str] = []
    labels: list[np.ndarray] = []
    weights: list[np.ndarray] = []

    def add(t: list[str], y: np.ndarray, w: float) -> None:
        keep = np.array([_norm(s) not in held_out for s in t], bool)
        texts.extend(s for s, k in zip(t, keep, strict=True) if k)
        labels.append(y[keep])
        weights.append(np.full(int(keep.sum()), w))

    add(*_read_split(te / "sentiment", "val"), 1.0)
    xlmt = root / "xlmt_multilingual"
    if xlmt.is_dir():
        for lang in sorted(p for p in xlmt.iterdir() if p.is_dir()):
            add(*_read_split(lang, "train"), 1.0)
    emo = te / "emotion"
    if emo.is_dir():
        for split in ("train", "val"):
            t, y = _read_split(emo, split)
            add(t, np.array([0, 2, 2, 0])[y], 0.5)
    return texts, np.concatenate(labels), np.concatenate(weights)


def train(data_dir: str | Path, out: str | Path | None = None, bits: int = DEFAULT_BITS,
          l2: float = 1e-4, limit: int | None = None) -> LinearModel:
    """Train the default model from ``data_dir`` (``../shared/data/sentiment``) and optionally save it.

    Reproduce the shipped file with::

        python -c "from socialleads.listen.sentiment import train; \\
                   train('../shared/data/sentiment', 'src/socialleads/listen/sentiment_model.npz')"

    ``limit`` keeps the first ``limit`` training texts (for quick checks).
    """
    root = Path(data_dir)
    if not (root / "tweeteval" / "sentiment" / "val_text.txt").exists():
        raise SentimentError(f"{root}: no tweeteval/sentiment/val_text.txt here (expected ../shared/data/sentiment)")
    texts, y, w = training_data(root)
    if limit is not None:
        texts, y, w = texts[:limit], y[:limit], w[:limit]
    model = fit(texts, y, bits=bits, l2=l2, sample_weight=w)
    if out is not None:
        model.save(out)
    return model
