"""Topic-specific influence (METRICS.md §2 "who matters most": "topic-specific influence where topics
exist"): weighted PageRank on the sub-graph of the interactions that involve posts of one topic.

An interaction *involves* a post of topic T when its target post (the post replied to, reposted, quoted
or liked) or its via post (the reply, quote or mentioning post itself) is assigned to T in `post_topics`
(`leads topics`). The sub-graph keeps those interactions in the window, with the interaction graph's
weights and window rules (graph.build: repost 3, quote 3, reply 2, mention 2, like 1; follows carry no
topic and are left out), edge engager → engaged (the target account, or the author of the target post).
The owner's accounts stay in the graph and are left out of the ranking, as in `who_matters`.

A topic is named by its id (``"3"``) or by its label or one of its terms (case-insensitive; a label
that several topics share is an error listing them). Without topics (the tables missing or empty) the
function raises `TopicsMissing`: "run `leads topics`".

Columns used: topics.topic_id, label, terms; post_topics.post_key, topic_id; interactions.type,
actor_key, target_account_key, target_post_key, via_post_key, created_at, ended_at; posts.post_key,
author_key; accounts.account_key, handle, platform.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from socialleads.engage.who import EngageError
from socialleads.graph import DEFAULT_WEIGHTS, from_edges, pagerank
from socialleads.graph.build import _IN_WINDOW, _window_params
from socialleads.store import Store
from socialleads.store.db import has_rows

NO_TOPICS = "not available: no topics yet (run `leads topics`)"


class TopicsMissing(EngageError):
    """The store has no topic assignments (`leads topics` has not run)."""


def has_topics(store: Store) -> bool:
    """True when the store holds topic assignments (the post_topics table exists and has a row)."""
    return has_rows(store.con, "post_topics")


def resolve_topic(store: Store, topic: str | int) -> dict[str, Any]:
    """{topic_id, label, terms} for a topic named by id, label or term; TopicsMissing / EngageError."""
    if not has_topics(store):
        raise TopicsMissing(f"topic influence: {NO_TOPICS}")
    q = str(topic).strip()
    if not q:
        raise EngageError("--topic: give a topic id or a word of its label")
    rows = store.con.execute("SELECT topic_id, label, terms FROM topics ORDER BY topic_id").fetchall()
    if q.lstrip("-").isdigit():
        hit = [r for r in rows if r[0] == int(q)]
        if not hit:
            if store.con.execute("SELECT count(*) FROM post_topics WHERE topic_id = ?", [int(q)]).fetchall()[0][0]:
                return {"topic_id": int(q), "label": None, "terms": []}
            raise EngageError(f"--topic {q}: no such topic (known ids: {', '.join(str(r[0]) for r in rows[:20])})")
    else:
        low = q.lower()
        hit = [r for r in rows if (r[1] or "").lower() == low]
        hit = hit or [r for r in rows if low in [t.lower() for t in (r[2] or [])]]
        hit = hit or [r for r in rows if low in (r[1] or "").lower()]
        if not hit:
            raise EngageError(f"--topic {q!r}: no topic has that label or term (see `leads topics`)")
        if len(hit) > 1:
            raise EngageError(f"--topic {q!r} matches {len(hit)} topics: "
                              + "; ".join(f"{r[0]} ({r[1]})" for r in hit[:10]) + " — give the topic id")
    tid, label, terms = hit[0]
    return {"topic_id": int(tid), "label": label, "terms": list(terms or [])}


def topic_influence(store: Store, owner_keys: Sequence[str], topic: str | int, *, start: dt.datetime | None,
                    end: dt.datetime | None, limit: int = 20) -> dict[str, Any]:
    """Accounts ranked by PageRank on the interactions around the posts of `topic` in [start, end].

    Returns {"topic": {topic_id, label, terms}, "interactions": n, "accounts": n, "rows": [...]}, each row:
    rank, account, handle, platform, pagerank, topic_interactions_received, topic_interactions_made,
    reasons (one sentence). One DuckDB aggregation, then sparse PageRank.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise EngageError(f"limit must be a positive whole number, got {limit!r}")
    t = resolve_topic(store, topic)
    case = " ".join(f"WHEN '{k}' THEN {float(v)!r}" for k, v in DEFAULT_WEIGHTS.items())
    types = ", ".join(f"'{k}'" for k in DEFAULT_WEIGHTS)
    sql = f"""
    WITH tp AS (SELECT DISTINCT post_key FROM post_topics WHERE topic_id = ?),
    ii AS (SELECT * FROM interactions
           WHERE type IN ({types})
             AND (target_post_key IN (SELECT post_key FROM tp) OR via_post_key IN (SELECT post_key FROM tp))),
    r AS (SELECT ii.type, ii.actor_key AS actor, coalesce(ii.target_account_key, p.author_key) AS target,
                 ii.created_at, ii.ended_at
          FROM ii LEFT JOIN (SELECT post_key, any_value(author_key) AS author_key FROM posts
                             WHERE post_key IN (SELECT target_post_key FROM ii WHERE target_account_key IS NULL)
                             GROUP BY post_key) p
                 ON ii.target_account_key IS NULL AND p.post_key = ii.target_post_key)
    SELECT actor, target, sum(CASE type {case} END) AS w, count(*) AS n FROM r
    WHERE TRUE {_IN_WINDOW} GROUP BY actor, target
    """
    tbl = store.con.sql(sql, params=[t["topic_id"]] + _window_params(start, end)).to_arrow_table()
    n_inter = int(pc.sum(tbl["n"]).as_py() or 0) if tbl.num_rows else 0
    if tbl.num_rows == 0:
        return {"topic": t, "interactions": 0, "accounts": 0, "rows": []}
    g = from_edges(tbl["actor"], tbl["target"], tbl["w"])
    pr = pagerank(g)
    keys = g.keys.astype(str)
    key_arr = pa.array(keys.tolist(), type=pa.string())
    enc_a = pc.index_in(tbl["actor"].combine_chunks().cast(pa.string()), value_set=key_arr).to_numpy()
    enc_t = pc.index_in(tbl["target"].combine_chunks().cast(pa.string()), value_set=key_arr).to_numpy()
    cnt = tbl["n"].to_numpy().astype(np.float64)
    recv = np.bincount(enc_t, weights=cnt, minlength=len(keys))
    made = np.bincount(enc_a, weights=cnt, minlength=len(keys))
    owners = np.asarray(list(owner_keys), dtype=str)
    cand = np.flatnonzero(~np.isin(keys, owners))
    order = cand[np.lexsort((keys[cand], -pr[cand]))][:limit]
    top = keys[order].tolist()
    meta = {k: (h, p) for k, h, p in store.con.execute(
        "SELECT account_key, any_value(handle), any_value(platform) FROM accounts "
        "WHERE account_key IN (SELECT unnest(CAST(? AS VARCHAR[]))) GROUP BY account_key", [top]).fetchall()}
    rows = []
    for rank, i in enumerate(order.tolist(), start=1):
        k = str(keys[i])
        h, p = meta.get(k, (None, None))
        r_n, m_n = int(recv[i]), int(made[i])
        why = (f"received {r_n:,} interaction{'s' if r_n != 1 else ''} on posts about this topic" if r_n else
               f"made {m_n:,} interaction{'s' if m_n != 1 else ''} on posts about this topic")
        rows.append({"rank": rank, "account": k, "handle": h, "platform": p, "pagerank": float(pr[i]),
                     "topic_interactions_received": r_n, "topic_interactions_made": m_n, "reasons": [why]})
    return {"topic": t, "interactions": n_inter, "accounts": int(len(keys)), "rows": rows}


__all__ = ["NO_TOPICS", "TopicsMissing", "has_topics", "resolve_topic", "topic_influence"]
