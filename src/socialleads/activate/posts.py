"""One row per post of O with what Activate measures on it (shared by experiments and what works).

Columns: post_key, platform, author_key, kind, created_at, text_len, has_media, has_link, n_hashtags,
is_question, followers (at post time), followers_basis, engagers, repliers.

* followers at post time: from follow events to the posting account (intervals with start ≤ t and no
  end or end > t; a follow without a time counts from the start), else the latest account metrics
  snapshot at or before t; NULL when neither exists.
* engagers: distinct non-O actors of reply / repost / quote / like interactions whose target is the
  post (METRICS.md §0 "actions on O", per post); repliers: the same for replies only.
* is_question: post_signals.is_question when `leads enrich` has run, else "the text, URLs removed, has a '?'".
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from socialleads.activate.links import owner_sql
from socialleads.store.db import has_table

KINDS = ("original", "quote")  # posts that stand on their own (replies and reposts are excluded)


_has_table = has_table  # kept for activate/whatworks.py


def followers_at(con: Any, author: np.ndarray, t: np.ndarray, owner_keys: list[str]) -> tuple[np.ndarray, str]:
    """Followers of each `author` (an O key) at `t` (datetime64[us]); NaN where unknown. Returns (values, basis)."""
    out = np.full(len(t), np.nan)
    ev = con.sql(f"""SELECT target_account_key AS a, epoch_us(coalesce(created_at, TIMESTAMP '0001-01-01')) AS s,
                     epoch_us(ended_at) AS e FROM interactions WHERE type = 'follow'
                     AND target_account_key IN ({owner_sql(owner_keys)}) AND actor_key IS NOT NULL
                     AND (ended_at IS NULL OR created_at IS NULL OR ended_at > created_at)""").to_arrow_table()
    tu = t.astype("datetime64[us]").astype(np.int64)
    basis = "none"
    if ev.num_rows:
        basis = "follow events"
        a = ev["a"].to_numpy(zero_copy_only=False)
        s = ev["s"].to_numpy()
        e = ev["e"].to_numpy(zero_copy_only=False)
        for k in np.unique(a):
            m = author == k
            if not m.any():
                continue
            sk = np.sort(s[a == k])
            ek = e[(a == k)]
            ek = np.sort(ek[~np.isnan(ek.astype(float))].astype(np.int64)) if ek.dtype == object or \
                np.issubdtype(ek.dtype, np.floating) else np.sort(ek)
            out[m] = np.searchsorted(sk, tu[m], side="right") - np.searchsorted(ek, tu[m], side="right")
    missing = np.isnan(out)
    if missing.any():
        snap = con.sql(f"""SELECT subject_key AS a, epoch_us(observed_at) AS o, followers AS f FROM metrics_snapshots
                       WHERE subject_type = 'account' AND followers IS NOT NULL
                       AND subject_key IN ({owner_sql(owner_keys)}) ORDER BY a, o""").to_arrow_table()
        if snap.num_rows:
            basis = "metrics snapshots" if basis == "none" else basis + " and metrics snapshots"
            a = snap["a"].to_numpy(zero_copy_only=False)
            o = snap["o"].to_numpy()
            f = snap["f"].to_numpy().astype(float)
            for k in np.unique(a):
                m = missing & (author == k)
                if not m.any():
                    continue
                ok, fk = o[a == k], f[a == k]
                i = np.searchsorted(ok, tu[m], side="right") - 1
                out[m] = np.where(i >= 0, fk[np.maximum(i, 0)], np.nan)
    return out, basis


def owner_posts(con: Any, owner_keys: list[str], kinds: tuple[str, ...] = KINDS) -> pa.Table:
    """The per-post table of the module docstring, for O's posts of `kinds`."""
    o = owner_sql(owner_keys)
    kinds_sql = ", ".join("'" + k + "'" for k in kinds)
    bare = "contains(regexp_replace(coalesce(p.text, ''), '[a-z]+://\\S+', '', 'g'), '?')"  # URLs have '?'
    question = f"coalesce(s.is_question, {bare})" if _has_table(con, "post_signals") else bare
    sig = "LEFT JOIN post_signals s USING (post_key)" if _has_table(con, "post_signals") else ""
    tbl = con.sql(f"""
        WITH op AS (SELECT post_key, platform, author_key, kind, created_at, text FROM posts
                    WHERE author_key IN ({o}) AND kind IN ({kinds_sql}) AND created_at IS NOT NULL),
        ent AS (SELECT post_key, bool_or(etype = 'media') AS has_media, bool_or(etype = 'link') AS has_link,
                       count(DISTINCT CASE WHEN etype = 'hashtag' THEN lower(value) END) AS n_hashtags
                FROM post_entities WHERE post_key IN (SELECT post_key FROM op) GROUP BY post_key),
        act AS (SELECT target_post_key AS post_key, count(DISTINCT actor_key) AS engagers,
                       count(DISTINCT CASE WHEN type = 'reply' THEN actor_key END) AS repliers
                FROM interactions WHERE type IN ('reply', 'repost', 'quote', 'like') AND actor_key IS NOT NULL
                  AND actor_key NOT IN ({o}) AND target_post_key IN (SELECT post_key FROM op)
                GROUP BY target_post_key)
        SELECT p.post_key, p.platform, p.author_key, p.kind, p.created_at, length(coalesce(p.text, '')) AS text_len,
               coalesce(ent.has_media, FALSE) AS has_media, coalesce(ent.has_link, FALSE) AS has_link,
               coalesce(ent.n_hashtags, 0)::BIGINT AS n_hashtags, {question} AS is_question,
               coalesce(act.engagers, 0)::BIGINT AS engagers, coalesce(act.repliers, 0)::BIGINT AS repliers
        FROM op p LEFT JOIN ent USING (post_key) LEFT JOIN act USING (post_key) {sig}
        ORDER BY p.created_at, p.post_key""").to_arrow_table()
    author = tbl["author_key"].to_numpy(zero_copy_only=False)
    t = tbl["created_at"].to_numpy(zero_copy_only=False).astype("datetime64[us]")
    fol, basis = followers_at(con, author, t, owner_keys)
    tbl = tbl.append_column("followers", pa.array(fol, mask=np.isnan(fol)))
    return tbl.append_column("followers_basis", pc.if_else(pc.is_null(tbl["followers"]), None, basis))
