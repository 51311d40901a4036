"""Principle alignment and staying in character (METRICS.md §5).

Alignment: each owner post gets a cosine similarity (lexical TF-IDF, see mandate/text.py) to each
declared principle, cause and the big promise. The idf is fitted on the owner's posts, so words the
owner uses everywhere ("energy", "home") weigh little and a principle's distinctive words weigh a lot.

On-mandate flag: the best similarity to a principle or a cause ≥ ``ON_MANDATE_THRESHOLD`` (0.25).
Chosen on the simulator (seed 1, 20 k posts, 782 owner posts): a post that carries a principle's
sentence scores 0.31–0.47, a post that does not scores ≤ 0.21 against the principles, so 0.25 sits in
the gap (precision 1.00, recall 1.00 against truth `aligned` with principles only; with causes
added, precision 0.97 — posts on the "right to repair" topic match that cause, which the simulator
does not count as aligned). The big promise is reported, not part of the flag: product posts
("see every watt") echo it without taking a stand.

Staying in character: per owner account, the voice centroid = mean of its posts' TF-IDF vectors in
W; a post's distance to it is 1 − cosine; its distance to the mandate is 1 − its best similarity to a
principle or cause. A post is out of character when both distances are above the account's own 95th
percentile. Voice drift = 1 − cosine between consecutive monthly centroids.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp
from scipy import stats

from socialleads.mandate.data import MandateError
from socialleads.mandate.text import cosine, l2_rows, tfidf

ON_MANDATE_THRESHOLD = 0.25
OUT_OF_CHARACTER_PERCENTILE = 95.0


def statements(brand: Any) -> list[dict[str, str]]:
    """The brand's declared statements: [{kind: principle|cause|big_promise, text}]."""
    out = [{"kind": "principle", "text": p} for p in getattr(brand, "principles", ()) or ()]
    out += [{"kind": "cause", "text": c} for c in getattr(brand, "causes", ()) or ()]
    bp = getattr(brand, "big_promise", "") or ""
    if bp:
        out.append({"kind": "big_promise", "text": bp})
    return out


def vectors(texts: pa.Array | Sequence[str | None], stmts: Sequence[str]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """TF-IDF rows of the posts and of the statements, idf fitted on the posts (plus the statements, so a
    statement word no post uses still counts)."""
    arr = texts if isinstance(texts, pa.Array) else pa.array(list(texts), pa.string())
    allt = pa.concat_arrays([arr.cast(pa.string()), pa.array(list(stmts), pa.string())])
    v = tfidf(allt)
    n = len(arr)
    return v.matrix[:n], v.matrix[n:]


def alignment(posts: pa.Table, brand: Any, *, threshold: float = ON_MANDATE_THRESHOLD) -> dict[str, Any]:
    """Per-post similarities and the on-mandate flag, the on-mandate share and the audience response.

    `posts` is `mandate.data.owner_posts` (text, engagers, actions, kind). Reposts (no text of O's own)
    are left out. Returns {statements, per_post: {post_key, similarity[n × k], best, best_statement,
    on_mandate}, on_mandate_share, by_statement, response}."""
    if not 0 < threshold <= 1:
        raise MandateError(f"threshold must be in (0, 1], got {threshold}")
    st = statements(brand)
    if not any(s["kind"] in ("principle", "cause") for s in st):
        raise MandateError("no principles or causes declared: add brand.principles / brand.causes to leads.toml")
    kind = np.asarray(posts["kind"].to_pylist(), dtype=object)
    keep = np.flatnonzero(kind != "repost")
    p = posts.take(pa.array(keep, pa.int64()))
    post_m, st_m = vectors(p["text"].combine_chunks(), [s["text"] for s in st])
    sim = cosine(post_m, st_m) if p.num_rows else np.zeros((0, len(st)))
    mandate_cols = np.array([s["kind"] in ("principle", "cause") for s in st])
    mand = sim[:, mandate_cols]
    best = mand.max(axis=1) if len(mand) else np.zeros(0)
    best_i = np.flatnonzero(mandate_cols)[mand.argmax(axis=1)] if len(mand) else np.zeros(0, np.int64)
    on = best >= threshold
    engagers = p["engagers"].to_numpy().astype(float)
    actions = p["actions"].to_numpy().astype(float)
    by_statement = []
    for j, s in enumerate(st):
        flagged = sim[:, j] >= threshold
        by_statement.append({**s, "posts": int(flagged.sum()),
                             "share": float(flagged.mean()) if len(flagged) else None,
                             "mean_engagers": float(engagers[flagged].mean()) if flagged.any() else None})
    return {
        "statements": st, "threshold": threshold, "posts": int(len(on)), "on_mandate": int(on.sum()),
        "on_mandate_share": float(on.mean()) if len(on) else None,
        "by_statement": by_statement,
        "response": {"engagers_per_post": compare_means(engagers[on], engagers[~on]),
                     "actions_per_post": compare_means(actions[on], actions[~on])},
        "per_post": {"post_key": p["post_key"].to_pylist(), "similarity": sim, "best": best,
                     "best_statement": [st[i]["text"] for i in best_i.tolist()] if len(best_i) else [],
                     "on_mandate": on},
        "method": "lexical TF-IDF cosine (stemmed, stop words removed; idf fitted on the owner's posts)",
    }


def mean_ci(x: np.ndarray, level: float = 0.95) -> dict[str, Any]:
    """Mean with a Student-t interval (None bounds for fewer than 2 values)."""
    n = int(len(x))
    if n == 0:
        return {"n": 0, "mean": None, "low": None, "high": None}
    m = float(np.mean(x))
    if n < 2:
        return {"n": n, "mean": m, "low": None, "high": None}
    se = float(np.std(x, ddof=1)) / math.sqrt(n)
    h = float(stats.t.ppf(0.5 + level / 2, n - 1)) * se
    return {"n": n, "mean": m, "low": m - h, "high": m + h}


def compare_means(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> dict[str, Any]:
    """Means of group a (on-mandate) and b (other) with intervals, and the Welch difference a − b with its
    interval and p-value; `decided` is False when the interval contains 0 (no difference claimed)."""
    out: dict[str, Any] = {"on_mandate": mean_ci(a, level), "other": mean_ci(b, level), "difference": None,
                           "low": None, "high": None, "p_value": None, "decided": False}
    if len(a) < 2 or len(b) < 2:
        return out
    va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
    diff = float(np.mean(a) - np.mean(b))
    se = math.sqrt(va + vb)
    out["difference"] = diff
    if se == 0:
        return out
    df = (va + vb) ** 2 / ((va ** 2) / (len(a) - 1) + (vb ** 2) / (len(b) - 1))
    h = float(stats.t.ppf(0.5 + level / 2, df)) * se
    out.update(low=diff - h, high=diff + h, p_value=float(2 * stats.t.sf(abs(diff) / se, df)),
               decided=bool(diff - h > 0 or diff + h < 0))
    return out


def character(posts: pa.Table, brand: Any, *, percentile: float = OUT_OF_CHARACTER_PERCENTILE) -> dict[str, Any]:
    """Out-of-character posts and voice drift per owner account (see the module docstring)."""
    st = [s["text"] for s in statements(brand) if s["kind"] in ("principle", "cause")]
    kind = np.asarray(posts["kind"].to_pylist(), dtype=object)
    keep = np.flatnonzero(kind != "repost")
    p = posts.take(pa.array(keep, pa.int64()))
    n = p.num_rows
    if n == 0:
        return {"posts": 0, "out_of_character": 0, "out_of_character_share": None, "accounts": [], "drift": [],
                "out_of_character_posts": []}
    post_m, st_m = vectors(p["text"].combine_chunks(), st or [""])
    to_mandate = 1.0 - (cosine(post_m, st_m).max(axis=1) if st else np.zeros(n))
    authors = np.asarray(p["author_key"].to_pylist(), dtype=object)
    created = p["created_at"].to_numpy().astype("datetime64[s]")
    months = created.astype("datetime64[M]")
    out_flag = np.zeros(n, bool)
    to_centroid = np.zeros(n)
    accounts, drift = [], []
    for a in sorted(set(authors.tolist())):  # one iteration per owner account (a handful)
        idx = np.flatnonzero(authors == a)
        sub = post_m[idx]
        centroid = l2_rows(sp.csr_matrix(sub.mean(axis=0)))
        d = 1.0 - np.asarray((sub @ centroid.T).toarray()).ravel()
        to_centroid[idx] = d
        cut_c = float(np.percentile(d, percentile))
        cut_m = float(np.percentile(to_mandate[idx], percentile))
        flag = (d > cut_c) & (to_mandate[idx] > cut_m)
        out_flag[idx] = flag
        accounts.append({"account": a, "posts": int(len(idx)), "out_of_character": int(flag.sum()),
                         "centroid_cut": cut_c, "mandate_cut": cut_m})
        # month-to-month drift
        um = np.unique(months[idx])
        prev = None
        for m in um.tolist():  # one iteration per month
            rows = idx[months[idx] == np.datetime64(m, "M")]
            c = l2_rows(sp.csr_matrix(post_m[rows].mean(axis=0)))
            if prev is not None:
                drift.append({"account": a, "month": str(np.datetime64(m, "M")), "posts": int(len(rows)),
                              "drift": float(1.0 - (c @ prev.T).toarray()[0, 0])})
            prev = c
    keys = p["post_key"].to_pylist()
    texts = p["text"].to_pylist()
    order = np.argsort(-to_centroid[out_flag], kind="stable")
    flagged = np.flatnonzero(out_flag)[order]
    return {"posts": n, "out_of_character": int(out_flag.sum()),
            "out_of_character_share": float(out_flag.mean()), "percentile": percentile,
            "accounts": accounts, "drift": drift,
            "out_of_character_posts": [{"post_key": keys[i], "text": texts[i], "distance": float(to_centroid[i]),
                                        "mandate_distance": float(to_mandate[i])} for i in flagged[:20].tolist()],
            "flags": out_flag, "post_key": keys}


__all__ = ["ON_MANDATE_THRESHOLD", "alignment", "character", "compare_means", "mean_ci", "statements", "vectors"]
