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

import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TypeVar

import numpy as np
import scipy.sparse as sp

from socialleads.errors import LeadsError

T = TypeVar("T")

LABELS = np.array(["negative", "neutral", "positive"])
DEFAULT_BITS = 18
BATCH_CHARS = 4_000_000  # code points per internal batch: bounds memory to ~0.3 GB whatever the input

_P = np.uint64(1_000_003)  # odd, so invertible modulo 2**64
_P_INV = np.uint64(pow(1_000_003, -1, 2**64))
_MIX = np.uint64(0x9E3779B97F4A7C15)
_BIGRAM = np.uint64(0xC2B2AE3D27D4EB4F)
_NAME = "sentiment_model.npz"
N_LEX = 4
NEGATORS = ("not", "no", "never", "nothing", "nobody", "none", "neither", "nor", "cannot", "without",
            "isn't", "aren't", "wasn't", "weren't", "don't", "doesn't", "didn't", "can't", "couldn't",
            "won't", "wouldn't", "shouldn't", "ain't", "hasn't", "haven't", "hadn't", "dont", "cant",
            "wont", "didnt", "doesnt", "isnt", "wasnt")


class SentimentError(LeadsError):
    """Bad input to the sentiment scorer, or a model file it cannot use."""


@dataclass(frozen=True)
class LinearModel:
    """Weights ``w`` (2**bits × 3) and bias ``b`` (3) over hashed unigram + bigram features."""

    w: np.ndarray
    b: np.ndarray
    bits: int
    lex: np.ndarray  # valence of each unigram bucket (0 where no lexicon word falls)
    lex_w: np.ndarray  # weights of the N_LEX lexicon features (N_LEX × 3)

    def save(self, path: str | Path) -> None:
        np.savez_compressed(path, w=self.w.astype(np.float16), b=self.b.astype(np.float32),
                            bits=np.int64(self.bits), labels=LABELS, lex=self.lex.astype(np.float16),
                            lex_w=self.lex_w.astype(np.float32))

    @classmethod
    def load(cls, path: str | Path) -> LinearModel:
        try:
            with np.load(path, allow_pickle=False) as z:
                w, b, bits = z["w"].astype(np.float32), z["b"].astype(np.float32), int(z["bits"])
                lex, lex_w = z["lex"].astype(np.float32), z["lex_w"].astype(np.float32)
        except (OSError, KeyError, ValueError) as e:
            raise SentimentError(f"{path}: not a sentiment model file ({e})") from None
        if w.shape != (1 << bits, 3) or b.shape != (3,) or lex.shape != (1 << bits,) or lex_w.shape != (N_LEX, 3):
            raise SentimentError(f"{path}: model arrays have the wrong shape {w.shape}, {b.shape}")
        return cls(w=w, b=b, bits=bits, lex=lex, lex_w=lex_w)


@lru_cache(maxsize=1)
def default_model() -> LinearModel:
    """The model shipped inside the package."""
    return load_packaged(_NAME, LinearModel.load, SentimentError, "sentiment")


def load_packaged(name: str, load: Callable[[Path], T], error: type[LeadsError], what: str) -> T:
    """A model file shipped in this package (socialleads/listen/<name>), read by ``load``; ``error`` names
    it when the installation lost it."""
    ref = resources.files("socialleads.listen").joinpath(name)
    with resources.as_file(ref) as path:
        if not path.exists():
            raise error(f"the packaged {what} model {name} is missing; reinstall socialleads")
        return load(path)


# ------------------------------------------------------------------------------------------ features
@lru_cache(maxsize=1)
def _class_table() -> np.ndarray:
    """Per code point: 1 = part of a word, 2 = a token on its own, 0 = separator."""
    cp = np.arange(0x110000, dtype=np.uint32)
    word = ((cp >= 0x61) & (cp <= 0x7A)) | ((cp >= 0x30) & (cp <= 0x39)) | (cp == 0x5F) | (cp == 0x27)
    # letters of Latin-1, Latin extended, Greek, Cyrillic, Hebrew, Arabic, Indic scripts …
    word |= (cp >= 0xC0) & (cp < 0x2000) & (cp != 0xD7) & (cp != 0xF7)
    single = (cp == 0x21) | (cp == 0x3F)  # ! and ?
    # emoji, symbols and CJK: one token per code point (not ZWJ, variation selectors, skin tones)
    single |= (cp >= 0x2190) & ~((cp >= 0xFE00) & (cp <= 0xFE0F)) & ~((cp >= 0x1F3FB) & (cp <= 0x1F3FF))
    return (word.astype(np.uint8) + 2 * single.astype(np.uint8)).astype(np.uint8)


_POW: list[np.ndarray] = [np.ones(1, np.uint64)]


def _powers(m: int) -> np.ndarray:
    """P**j modulo 2**64 for j < m (cached, grown by doubling): m is the longest token, not the batch."""
    if len(_POW[0]) < m:
        a = np.full(max(m, 2 * len(_POW[0])), _P, np.uint64)
        a[0] = 1
        with np.errstate(over="ignore"):
            _POW[0] = np.cumprod(a)
    return _POW[0][:m]


def _token_hashes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(doc index, 64-bit hash) of every token of every text, in reading order.

    A token's hash is its polynomial sum Σ (c_j + 1)·P**j over its code points c_j (j counted from the
    token's start), mixed with its length; the sums are taken over the token characters only, with
    powers of the position inside the token (so no array is as long as the batch but the text itself)."""
    n = len(texts)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.uint64)
    joined = "\n".join(texts).lower().replace("\u2019", "'")
    cp = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n)
    if len(cp) != lengths.sum() + n - 1:  # lower() changed some lengths (rare letters): per-text fallback
        low = [t.lower() for t in texts]
        cp = np.frombuffer("\n".join(low).replace("\u2019", "'").encode("utf-32-le"), dtype=np.uint32)
        lengths = np.fromiter(map(len, low), dtype=np.int64, count=n)
    cls = _class_table()[cp]
    word = cls == 1
    edge = np.diff(word.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    # a token starts where a word run starts and at every single-character token
    is_start = edge[:-1] == 1
    is_start |= cls == 2
    pos = np.flatnonzero(cls)                      # the characters that are in a token, in reading order
    if len(pos) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.uint64)
    first = is_start[pos]
    k = np.flatnonzero(first)                      # index into pos of each token's first character
    starts = pos[k]
    tok_len = np.diff(np.append(k, len(pos)))
    step = np.ones(len(pos), np.int64)             # position inside the token: +1 per character, back
    step[k] = 1 - np.concatenate(([1], tok_len[:-1]))  # to 0 at each token's first character
    local = np.cumsum(step)
    pw = _powers(int(tok_len.max()))
    with np.errstate(over="ignore"):
        h = np.add.reduceat((cp[pos].astype(np.uint64) + np.uint64(1)) * pw[local], k)
        h = (h + tok_len.astype(np.uint64)) * _MIX
        h ^= h >> np.uint64(31)
    doc_start = np.cumsum(lengths + 1) - (lengths + 1)
    doc = np.searchsorted(doc_start, starts, side="right") - 1
    return doc.astype(np.int64), h


def _buckets(h: np.ndarray, bits: int) -> np.ndarray:
    return (h >> np.uint64(64 - bits)).astype(np.int64)


@lru_cache(maxsize=4)
def _negator_hashes() -> np.ndarray:
    _, h = _token_hashes(NEGATORS)
    return np.unique(h)


#: Tokens that are not features: an exclamation mark intensifies whatever the text says (VADER treats
#: it so) but learnt as a word it carried the training tweets' cheer — "awful!!" scored positive.
NON_FEATURES = ("!",)


@lru_cache(maxsize=1)
def _non_feature_hashes() -> np.ndarray:
    _, h = _token_hashes(NON_FEATURES)
    return np.unique(h)


def _parts(texts: Sequence[str], bits: int, lex: np.ndarray | None
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(row, column, row scale, lexicon features): the hashed features as coordinates (NON_FEATURES
    tokens left out, so no unigram or bigram is made of them)."""
    n = len(texts)
    doc, h = _token_hashes(texts)
    if len(h):
        keep = ~np.isin(h, _non_feature_hashes())
        doc, h = doc[keep], h[keep]
    same = doc[1:] == doc[:-1]
    with np.errstate(over="ignore"):
        h2 = (h[:-1] * _BIGRAM + h[1:]) * _MIX
        h2 ^= h2 >> np.uint64(29)
    uni = _buckets(h, bits)
    rows = np.concatenate([doc, doc[1:][same]])
    keys = np.concatenate([uni, _buckets(h2[same], bits)])
    per_doc = np.bincount(rows, minlength=n).astype(np.float32)
    scale = 1.0 / np.sqrt(np.maximum(per_doc, 1.0))
    dense = np.zeros((n, N_LEX), np.float32)
    if lex is not None and len(h):
        v = lex[uni].astype(np.float64)
        negs = _negator_hashes()  # sorted: one binary search per token (np.isin loops over the 33 negators)
        neg = negs[np.minimum(np.searchsorted(negs, h), len(negs) - 1)] == h
        flip = np.zeros(len(h), bool)
        flip[1:] |= neg[:-1] & same
        flip[2:] |= neg[:-2] & same[1:] & same[:-1]
        v = np.where(flip, -0.74 * v, v)
        pos = np.bincount(doc, np.maximum(v, 0), minlength=n)
        ngm = np.bincount(doc, np.maximum(-v, 0), minlength=n)
        tot = pos - ngm
        dense[:, 0] = tot / np.sqrt(tot * tot + 15)
        dense[:, 1] = pos / np.sqrt(pos * pos + 15)
        dense[:, 2] = ngm / np.sqrt(ngm * ngm + 15)
        dense[:, 3] = np.bincount(doc, v != 0, minlength=n) > 0
    return rows, keys, scale, dense


def _row_sums(rows: np.ndarray, keys: np.ndarray, w: np.ndarray, n: int) -> np.ndarray:
    """For each row r < n: the sum of ``w[k]`` over the (r, k) pairs, in float64 (n × w.shape[1]).

    ``_parts`` lists the unigrams then the bigrams, each run sorted by row, so every sorted run
    becomes a CSR matrix without sorting and the sums are sparse × dense products (scipy's C loop;
    the same sums as a ``bincount`` per class, without gathering ``w[keys]`` once per class)."""
    out = np.zeros((n, w.shape[1]), np.float64)
    if len(rows) == 0:
        return out
    cuts = np.concatenate([[0], np.flatnonzero(rows[1:] < rows[:-1]) + 1, [len(rows)]])
    at = np.arange(n + 1)
    for a, b in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
        r = rows[a:b]
        x = sp.csr_matrix((np.ones(b - a, np.float64), keys[a:b].astype(np.int32), np.searchsorted(r, at)),
                          shape=(n, w.shape[0]))
        out += x @ w
    return out


_STACKED: dict[tuple[int, ...], tuple[tuple[object, ...], np.ndarray]] = {}


def _stacked(*models: object) -> np.ndarray:
    """The hashed-feature weights of several models side by side, in float64 (cached per model set,
    by identity: the models are frozen; the cache keeps them alive, so an id is never reused)."""
    key = tuple(map(id, models))
    hit = _STACKED.get(key)
    if hit is None:
        if len(_STACKED) >= 8:
            _STACKED.clear()
        w = np.ascontiguousarray(np.hstack([np.asarray(m.w, np.float64) for m in models]))  # type: ignore[attr-defined]
        hit = _STACKED[key] = (models, w)
    return hit[1]


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def proba_from_parts(model: LinearModel, rows: np.ndarray, keys: np.ndarray, scale: np.ndarray,
                     dense: np.ndarray, lin: np.ndarray | None = None) -> np.ndarray:
    """Class probabilities (texts × 3, float64) from ``_parts``; ``lin``: the row sums of
    ``model.w`` when the caller already has them (enrich scores several models in one product)."""
    n = len(scale)
    if lin is None:
        lin = _row_sums(rows, keys, _stacked(model), n)
    z = dense.astype(np.float64) @ model.lex_w.astype(np.float64) + model.b.astype(np.float64)
    z += lin * scale.astype(np.float64)[:, None]
    return _softmax(z)


def featurize(texts: Sequence[str], bits: int = DEFAULT_BITS,
              lex: np.ndarray | None = None) -> tuple[sp.csr_matrix, np.ndarray]:
    """(hashed features, lexicon features) of a batch.

    Hashed features: unigram + bigram counts, each row divided by the square root of its number of
    features (texts × 2**bits). Lexicon features (texts × N_LEX), VADER-style: the valences of the
    words that the lexicon knows, flipped and damped (× −0.74) after a negator one or two tokens back,
    summed into positive and negative mass and normalized as x / sqrt(x² + 15).
    """
    rows, keys, scale, dense = _parts(texts, bits, lex)
    x = sp.csr_matrix((scale[rows], (rows, keys)), shape=(len(texts), 1 << bits), dtype=np.float32)
    return x, dense


def lexicon_table(path: str | Path, bits: int = DEFAULT_BITS) -> np.ndarray:
    """Per-bucket valences from a VADER-format lexicon (``word<TAB>mean valence<TAB>…`` per line).

    Entries that our tokenizer would not keep as one token (emoticons such as ``:-)``) are left out.
    """
    try:
        rows = [line.split("\t") for line in Path(path).read_text(encoding="utf-8").splitlines() if "\t" in line]
        words, vals = [r[0] for r in rows], np.array([float(r[1]) for r in rows])
    except (OSError, ValueError, IndexError) as e:
        raise SentimentError(f"{path}: not a VADER-format lexicon ({e})") from None
    doc, h = _token_hashes(words)
    one = np.bincount(doc, minlength=len(words)) == 1
    first = np.searchsorted(doc, np.arange(len(words)))
    table = np.zeros(1 << bits, np.float32)
    ok = np.flatnonzero(one)
    table[_buckets(h[first[ok]], bits)] = vals[ok]
    return table


# ------------------------------------------------------------------------------------------- scoring
def _check(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise SentimentError("score_texts takes a list of texts, not a single string")
    out = list(texts)
    if not all(isinstance(t, str) for t in out):
        i = next(i for i, t in enumerate(out) if not isinstance(t, str))
        raise SentimentError(f"texts must be strings; item {i} is {type(out[i]).__name__}")
    return out


def predict_proba(texts: Sequence[str], model: LinearModel | None = None) -> np.ndarray:
    """Class probabilities (texts × 3, float64, columns in ``LABELS`` order).

    z = lexicon features · lex_w + b + (sum of the weights of the text's hashed features) / sqrt(their
    number), softmax over the 3 classes; computed in float64 (tests/test_enrich_equivalence.py checks it
    against a one-text-at-a-time reference to 1e-12)."""
    items = _check(texts)
    mdl = model or default_model()
    out = np.empty((len(items), 3), np.float64)
    if not items:
        return out
    # internal batches keep memory bounded; a handful of batches per million texts, not one per text
    ends = np.cumsum(np.fromiter(map(len, items), dtype=np.int64, count=len(items)))
    cut = np.searchsorted(ends, np.arange(BATCH_CHARS, int(ends[-1]), BATCH_CHARS))
    bounds = np.unique(np.concatenate([[0], np.minimum(cut + 1, len(items)), [len(items)]])).tolist()
    chunks = [(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    workers = _workers(len(items))
    if workers > 1:  # each batch in halves on two threads: numpy's array passes release the GIL
        chunks = [(a + (b - a) * i // workers, a + (b - a) * (i + 1) // workers) for a, b in chunks
                  for i in range(workers)]

    def score(ab: tuple[int, int]) -> None:
        a, b = ab
        rows, keys, scale, dense = _parts(items[a:b], mdl.bits, mdl.lex)
        out[a:b] = proba_from_parts(mdl, rows, keys, scale, dense)

    if workers > 1:
        list(_pool().map(score, chunks))
    else:
        for ab in chunks:
            score(ab)
    return out


PARALLEL_MIN = 4_000   # texts: below this one thread (the thread hand-off costs more than it saves)


def _workers(n: int) -> int:
    """Threads for scoring n texts: up to 2 (the CPUs this process may use), 1 for small inputs or when
    LEADS_THREADS=1. The texts are split by position, so the results are the same either way."""
    if n < PARALLEL_MIN:
        return 1
    want = int(os.environ.get("LEADS_THREADS") or 2)
    return max(1, min(want, 2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else
                      (os.cpu_count() or 1)))


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="leads-score")


def score_texts(texts: Sequence[str], model: LinearModel | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Label each text negative / neutral / positive and give a score in [−1, 1].

    The score is P(positive) − P(negative); the label is the most probable class.
    """
    p = predict_proba(texts, model)
    return LABELS[p.argmax(axis=1)], (p[:, 2] - p[:, 0]).astype(np.float64)


# ------------------------------------------------------------------------------------------ training
def fit(texts: Sequence[str], y: np.ndarray, bits: int = DEFAULT_BITS, l2: float = 1e-4,
        sample_weight: np.ndarray | None = None, lex: np.ndarray | None = None,
        max_iter: int = 300) -> LinearModel:
    """Multinomial logistic regression (L-BFGS) on hashed + lexicon features; classes balanced by weight."""
    from scipy.optimize import minimize

    y = np.asarray(y, np.int64)
    if len(texts) != len(y) or len(y) == 0:
        raise SentimentError(f"fit needs as many labels as texts (got {len(texts)} texts, {len(y)} labels)")
    if y.min() < 0 or y.max() > 2:
        raise SentimentError("labels must be 0 (negative), 1 (neutral) or 2 (positive)")
    lex_t = np.zeros(1 << bits, np.float32) if lex is None else np.asarray(lex, np.float32)
    x, dense = featurize(texts, bits, lex_t)
    n, d = x.shape
    counts = np.bincount(y, minlength=3).astype(np.float64)
    cw = np.where(counts > 0, n / (3 * np.maximum(counts, 1)), 0.0)
    sw = cw[y] * (np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64))
    sw = sw / sw.sum()
    onehot = np.eye(3)[y]
    used = np.unique(x.indices)  # optimize only the columns that occur: the rest stay 0
    xu = sp.csr_matrix(sp.hstack([x[:, used], sp.csr_matrix(dense)]), dtype=np.float64)
    k = xu.shape[1]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[: 3 * k].reshape(k, 3), theta[3 * k:]
        z = xu @ w + b
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1))[:, None]
        val = -(sw * (logp * onehot).sum(axis=1)).sum() + 0.5 * l2 * (w * w).sum()
        g = (np.exp(logp) - onehot) * sw[:, None]
        gw = np.asarray(xu.T @ g) + l2 * w
        return float(val), np.concatenate([gw.ravel(), g.sum(axis=0)])

    res = minimize(loss, np.zeros(3 * k + 3), jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    wk = res.x[: 3 * k].reshape(k, 3)
    w = np.zeros((d, 3), np.float32)
    w[used] = wk[: len(used)]
    return LinearModel(w=w, b=res.x[3 * k:].astype(np.float32), bits=bits, lex=lex_t,
                       lex_w=wk[len(used):].astype(np.float32))


def _read_split(folder: Path, split: str) -> tuple[list[str], np.ndarray]:
    text = (folder / f"{split}_text.txt").read_text(encoding="utf-8").split("\n")
    labels = np.array((folder / f"{split}_labels.txt").read_text(encoding="utf-8").split(), np.int64)
    return text[: len(labels)], labels


def _norm(t: str) -> str:
    return re.sub(r"\s+", " ", t.strip().lower())


def training_data(data_dir: str | Path) -> tuple[list[str], np.ndarray]:
    """(texts, labels) for the shipped model, read from ``../shared/data/sentiment``.

    TweetEval's sentiment *train* text is absent from the shared snapshot (only its labels are there),
    so the model learns from TweetEval sentiment ``val`` (2,000 English tweets) and the English UMSAB
    (XLM-T) ``train`` split less what it shares with that (409 more tweets). Any text that occurs in
    the TweetEval sentiment *test* split (after lower-casing and collapsing spaces) is dropped, so the
    test split stays unseen; UMSAB English ``test`` is a subset of it and is never read. (Adding the
    other UMSAB languages and TweetEval emotion as weak labels was tried: English macro-F1 fell from
    0.58 to 0.53, so they are left out.)
    """
    root = Path(data_dir)
    te = root / "tweeteval" / "sentiment"
    test_text, _ = _read_split(te, "test")
    seen = set(map(_norm, test_text))
    texts: list[str] = []
    labels: list[np.ndarray] = []
    sources = [(te, "val"), (root / "xlmt_multilingual" / "english", "train")]
    for folder, split in sources:
        if not (folder / f"{split}_text.txt").exists():
            continue
        t, y = _read_split(folder, split)
        norm = [_norm(x) for x in t]
        keep = np.array([x not in seen for x in norm], bool)
        seen.update(norm)
        texts.extend(x for x, k in zip(t, keep, strict=True) if k)
        labels.append(y[keep])
    return texts, np.concatenate(labels)


def vader_lexicon_path() -> Path | None:
    """The lexicon file of the vaderSentiment package (MIT licence), when it is installed."""
    try:
        import vaderSentiment  # type: ignore[import-untyped]
    except ImportError:
        return None
    path = Path(vaderSentiment.__file__).parent / "vader_lexicon.txt"
    return path if path.exists() else None


def train(data_dir: str | Path, out: str | Path | None = None, bits: int = DEFAULT_BITS,
          l2: float = 1e-4, limit: int | None = None, lexicon: str | Path | None = None) -> LinearModel:
    """Train the default model from ``data_dir`` (``../shared/data/sentiment``) and optionally save it.

    Reproduce the shipped file with::

        python -c "from socialleads.listen.sentiment import train; \\
                   train('../shared/data/sentiment', 'src/socialleads/listen/sentiment_model.npz')"

    ``limit`` keeps the first ``limit`` training texts (for quick checks). ``lexicon`` is a
    VADER-format word list; by default the vaderSentiment package's own (MIT licence; the shipped
    model was built from vaderSentiment 3.3.2's), else the valence table inside the shipped model.
    """
    root = Path(data_dir)
    if not (root / "tweeteval" / "sentiment" / "val_text.txt").exists():
        raise SentimentError(f"{root}: no tweeteval/sentiment/val_text.txt here (expected ../shared/data/sentiment)")
    texts, y = training_data(root)
    if limit is not None:
        texts, y = texts[:limit], y[:limit]
    lex_path = Path(lexicon) if lexicon is not None else vader_lexicon_path()
    if lex_path is not None:
        lex = lexicon_table(lex_path, bits)
    elif bits == default_model().bits:
        lex = default_model().lex
    else:
        raise SentimentError(f"no lexicon for bits={bits}: pass lexicon= or install vaderSentiment")
    model = fit(texts, y, bits=bits, l2=l2, lex=lex)
    if out is not None:
        model.save(out)
    return model
