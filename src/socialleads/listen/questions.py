"""Hot questions (METRICS.md §1): posts that ask, grouped by topic, ranked by volume and by the influence
of the askers.

A question is a post whose ``post_signals.is_question`` is true (``leads enrich``); its topic comes
from ``post_topics`` (``leads topics``). An asker's influence is their PageRank in the interaction
graph (``graph.build.interaction_graph`` + ``graph.rank.pagerank``, scaled so 1 = the average node)
when the store has interactions, else their follower count (latest ``metrics_snapshots.followers``);
``influence_measure`` says which. Topics are ranked by the number of questions, then by the summed
influence of their distinct askers; within a topic the questions are ranked by their asker's
influence, then followers, then newest first. One SQL query does the grouping and ranking.
"""

from __future__ import annotations

import uuid
from typing import Any

import pyarrow as pa

from socialleads.errors import LeadsError
from socialleads.listen.topics import OUTLIER, RUN_TOPICS, has_topics
from socialleads.store.db import has_rows

RUN_ENRICH = "not available: no text signals yet (run `leads enrich`)"

_SQL = """
WITH snap AS (
  SELECT subject_key AS account_key, arg_max(followers, observed_at) AS followers
  FROM metrics_snapshots WHERE subject_type = 'account' AND followers IS NOT NULL GROUP BY ALL
),
fol AS (
  SELECT target_account_key AS account_key, count(DISTINCT actor_key) AS followers FROM interactions
  WHERE type = 'follow' AND ended_at IS NULL AND target_account_key IS NOT NULL GROUP BY ALL
),
-- an asker's followers: the latest count a source gave, else the follows the store holds, else unknown (NULL)
f AS (
  SELECT coalesce(snap.account_key, fol.account_key) AS account_key,
         coalesce(snap.followers, fol.followers) AS followers
  FROM snap FULL JOIN fol USING (account_key)
),
q AS (
  SELECT pt.topic_id, p.post_key, p.author_key, p.text, p.url, coalesce(p.created_at, p.sort_at) AS t,
         f.followers AS followers, {infl_expr}::DOUBLE AS influence, a.handle
  FROM post_topics pt
  JOIN (SELECT post_key FROM post_signals WHERE is_question GROUP BY post_key) s USING (post_key)
  JOIN posts p USING (post_key)
  LEFT JOIN f ON f.account_key = p.author_key
  LEFT JOIN {influence} i ON i.account_key = p.author_key
  LEFT JOIN (SELECT account_key, any_value(handle) AS handle FROM accounts GROUP BY ALL) a
         ON a.account_key = p.author_key
  WHERE (CAST(? AS INTEGER) IS NULL OR pt.topic_id = CAST(? AS INTEGER))
    AND (p.author_key IS NULL OR p.author_key NOT IN (SELECT unnest(CAST(? AS VARCHAR[]))))
),
askers AS (SELECT topic_id, author_key, max(followers) AS followers, max(influence) AS influence FROM q GROUP BY ALL),
asker_sums AS (SELECT topic_id, sum(followers) AS asker_followers, sum(influence) AS asker_influence
               FROM askers GROUP BY topic_id),
-- a join, not correlated subqueries in the aggregate: the same SQL runs on Spark (engine/spark_sql.py)
agg AS (
  SELECT c.topic_id, c.questions, c.askers, s.asker_followers, s.asker_influence
  FROM (SELECT topic_id, count(*) AS questions, count(DISTINCT author_key) AS askers FROM q GROUP BY topic_id) c
  JOIN asker_sums s USING (topic_id)
),
ranked AS (
  SELECT q.*, row_number() OVER (PARTITION BY q.topic_id ORDER BY q.influence DESC, q.followers DESC NULLS LAST,
                                 q.t DESC, q.post_key) AS r
  FROM q
)
SELECT agg.topic_id, agg.questions, agg.askers, agg.asker_followers, tp.label, agg.asker_influence,
       list({'post_key': r.post_key, 'author_key': r.author_key, 'handle': r.handle, 'followers': r.followers,
             'influence': r.influence,
             'created_at': r.t, 'text': r.text, 'url': r.url}
            ORDER BY r.r) FILTER (WHERE r.r <= ?) AS top
FROM agg JOIN ranked r USING (topic_id) LEFT JOIN topics tp USING (topic_id)
GROUP BY ALL
ORDER BY agg.questions DESC, agg.asker_influence DESC, agg.asker_followers DESC, agg.topic_id
"""


class QuestionsError(LeadsError):
    """Bad arguments to hot_questions."""


def _has_signals(con: Any) -> bool:
    return has_rows(con, "post_signals")


def _pagerank_table(store: Any, graph: Any = None) -> pa.Table | None:
    """(account_key, influence) = PageRank of the interaction graph (METRICS §2) — `graph` when given (e.g.
    the scorecard's graph of W), else the whole store's — or None when it is empty."""
    from socialleads.graph.build import interaction_graph
    from socialleads.graph.rank import pagerank

    g = graph if graph is not None else interaction_graph(store)
    if g.n == 0:
        return None
    return pa.table({"account_key": pa.array(list(g.keys), pa.string()),
                     "influence": pa.array(pagerank(g) * g.n, pa.float64())})


def hot_questions(store: Any, *, topic: int | None = None, per_topic: int = 5, limit: int | None = 10,
                  include_outliers: bool = False, influence: str = "auto", graph: Any = None,
                  exclude: list[str] | None = None) -> dict[str, Any]:
    """Question posts grouped by topic, JSON-ready.

    ``{available, reason, topics: [{topic_id, label, questions, askers, asker_followers, top: [{post_key,
    author_key, handle, followers, created_at, text, url}]}], questions}``; topics ranked by questions,
    then asker followers; ``top`` = up to ``per_topic`` questions by asker followers. The outlier class
    (−1) is left out unless ``include_outliers`` or asked for by ``topic``.
    ``influence``: "pagerank" (PageRank × number of nodes of the interaction graph, so 1 = average),
    "followers", or "auto" (PageRank when the store has interactions, else followers); the measure
    used is returned as ``influence_measure`` and ranks askers (``asker_influence`` per topic).
    ``graph``: the interaction graph to rank on (default: the whole store's). ``exclude``: accounts whose
    questions are left out — the owner's (Listen is what the people around O ask). An asker's
    ``followers`` is the latest count a source gave, else the follows stored, else None (unknown; never 0
    by default); ``asker_followers`` sums the known ones.
    """
    if influence not in ("auto", "pagerank", "followers"):
        raise QuestionsError(f"influence must be 'auto', 'pagerank' or 'followers' (got {influence!r})")
    if topic is not None and (not isinstance(topic, int) or isinstance(topic, bool)):
        raise QuestionsError(f"topic must be a topic id (a whole number), got {topic!r}")
    if not isinstance(per_topic, int) or per_topic < 1:
        raise QuestionsError(f"per_topic must be a whole number >= 1, got {per_topic!r}")
    con = store.con
    if not has_topics(store):
        return {"available": False, "reason": RUN_TOPICS, "topics": [], "questions": None}
    if not _has_signals(con):
        return {"available": False, "reason": RUN_ENRICH, "topics": [], "questions": None}
    if topic is not None and topic != OUTLIER:
        known = con.execute("SELECT count(*) FROM topics WHERE topic_id = ?", [topic]).fetchall()[0][0]
        if not known:
            raise QuestionsError(f"no topic {topic}: see `leads topics` for the topic ids")
    pr = _pagerank_table(store, graph) if influence != "followers" else None
    if influence == "pagerank" and pr is None:
        raise QuestionsError("no interactions in the store: PageRank is not available (use influence='followers')")
    view = f"leads_influence_{uuid.uuid4().hex}"
    con.register(view, pr if pr is not None else pa.table({"account_key": pa.array([], pa.string()),
                                                           "influence": pa.array([], pa.float64())}))
    try:
        sql = _SQL.replace("{influence}", f'"{view}"').replace(
            "{infl_expr}", "coalesce(i.influence, 0)" if pr is not None else "coalesce(f.followers, 0)")
        rows = con.execute(sql, [topic, topic, [str(k) for k in exclude or []], per_topic]).fetchall()
    finally:
        con.unregister(view)
    measure = "pagerank" if pr is not None else "followers"
    out = []
    for tid, nq, na, fol, label, infl, top in rows:  # one row per topic (few)
        if tid == OUTLIER and not include_outliers and topic is None:
            continue
        out.append({"topic_id": int(tid), "label": label if tid != OUTLIER else "(outliers)",
                    "questions": int(nq), "askers": int(na), "asker_followers": int(fol or 0),
                    "asker_influence": float(infl or 0),
                    "top": [{**d, "created_at": d["created_at"].isoformat() if d["created_at"] else None,
                             "followers": None if d["followers"] is None else int(d["followers"])}
                            for d in (top or [])]})
    total = sum(t["questions"] for t in out)
    return {"available": True, "reason": None, "topics": out[:limit] if limit else out, "questions": total,
            "influence_measure": measure}


__all__ = ["QuestionsError", "hot_questions"]
