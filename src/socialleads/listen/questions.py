"""Hot questions (METRICS.md §1): posts that ask, grouped by topic, ranked by volume and by the influence
of the askers.

A question is a post whose ``post_signals.is_question`` is true (``leads enrich``); its topic comes
from ``post_topics`` (``leads topics``). An asker's influence is their follower count: the latest
``metrics_snapshots.followers`` of the account (0 when unknown) — cheap at any size, and the first of
Cha et al.'s three axes that METRICS §2 uses for "who matters". Topics are ranked by the number of
questions, then by the summed followers of their distinct askers; within a topic the questions are
ranked by their asker's followers, then newest first. One SQL query does the grouping and ranking.
"""

from __future__ import annotations

from typing import Any

from socialleads.errors import LeadsError
from socialleads.listen.topics import OUTLIER, RUN_TOPICS, has_topics

RUN_ENRICH = "not available: no text signals yet (run `leads enrich`)"

_SQL = """
WITH f AS (
  SELECT subject_key AS account_key, arg_max(followers, observed_at) AS followers
  FROM metrics_snapshots WHERE subject_type = 'account' AND followers IS NOT NULL GROUP BY ALL
),
q AS (
  SELECT pt.topic_id, p.post_key, p.author_key, p.text, p.url, coalesce(p.created_at, p.sort_at) AS t,
         coalesce(f.followers, 0) AS followers, a.handle
  FROM post_topics pt
  JOIN (SELECT post_key FROM post_signals WHERE is_question GROUP BY post_key) s USING (post_key)
  JOIN posts p USING (post_key)
  LEFT JOIN f ON f.account_key = p.author_key
  LEFT JOIN (SELECT account_key, any_value(handle) AS handle FROM accounts GROUP BY ALL) a
         ON a.account_key = p.author_key
  WHERE (CAST(? AS INTEGER) IS NULL OR pt.topic_id = CAST(? AS INTEGER))
),
askers AS (SELECT topic_id, author_key, max(followers) AS followers FROM q GROUP BY ALL),
agg AS (
  SELECT q.topic_id, count(*) AS questions, count(DISTINCT q.author_key) AS askers,
         (SELECT sum(a.followers) FROM askers a WHERE a.topic_id = q.topic_id) AS asker_followers
  FROM q GROUP BY q.topic_id
),
ranked AS (
  SELECT q.*, row_number() OVER (PARTITION BY q.topic_id ORDER BY q.followers DESC, q.t DESC, q.post_key) AS r
  FROM q
)
SELECT agg.topic_id, agg.questions, agg.askers, agg.asker_followers, tp.label,
       list({'post_key': r.post_key, 'author_key': r.author_key, 'handle': r.handle, 'followers': r.followers,
             'created_at': r.t, 'text': r.text, 'url': r.url}
            ORDER BY r.r) FILTER (WHERE r.r <= ?) AS top
FROM agg JOIN ranked r USING (topic_id) LEFT JOIN topics tp USING (topic_id)
GROUP BY ALL
ORDER BY agg.questions DESC, agg.asker_followers DESC, agg.topic_id
"""


class QuestionsError(LeadsError):
    """Bad arguments to hot_questions."""


def _has_signals(con: Any) -> bool:
    has = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'post_signals'").fetchall()
    if not has or not has[0][0]:
        return False
    return bool(con.execute("SELECT count(*) FROM (SELECT 1 FROM post_signals LIMIT 1)").fetchall()[0][0])


def hot_questions(store: Any, *, topic: int | None = None, per_topic: int = 5, limit: int | None = 10,
                  include_outliers: bool = False) -> dict[str, Any]:
    """Question posts grouped by topic, JSON-ready.

    ``{available, reason, topics: [{topic_id, label, questions, askers, asker_followers, top: [{post_key,
    author_key, handle, followers, created_at, text, url}]}], questions}``; topics ranked by questions,
    then asker followers; ``top`` = up to ``per_topic`` questions by asker followers. The outlier class
    (−1) is left out unless ``include_outliers`` or asked for by ``topic``.
    """
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
    rows = con.execute(_SQL, [topic, topic, per_topic]).fetchall()
    out = []
    for tid, nq, na, fol, label, top in rows:  # one row per topic (few)
        if tid == OUTLIER and not include_outliers and topic is None:
            continue
        out.append({"topic_id": int(tid), "label": label if tid != OUTLIER else "(outliers)",
                    "questions": int(nq), "askers": int(na), "asker_followers": int(fol or 0),
                    "top": [{**d, "created_at": d["created_at"].isoformat() if d["created_at"] else None,
                             "followers": int(d["followers"])} for d in (top or [])]})
    total = sum(t["questions"] for t in out)
    return {"available": True, "reason": None, "topics": out[:limit] if limit else out, "questions": total}


__all__ = ["QuestionsError", "hot_questions"]
