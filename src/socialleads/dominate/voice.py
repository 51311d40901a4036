"""Share of voice, whitespace, first movers and topic authority (METRICS.md §4), in DuckDB SQL.

For S = O ∪ competitors and the window W = [start, end]:

* **mention-SoV** = posts in W that mention an account of s (a `post_entities` mention resolved to
  the account), not written by s itself ÷ the same for all of S;
* **post-SoV** = s's posts in W (originals, replies, quotes; reposts are not voice) ÷ all of S's;
* **engagement-SoV** = replies, reposts, quotes and likes by others on s's posts of W (at any time in
  the stored data) ÷ the same for all of S.

Each figure is labelled with its kind. Per topic, a post counts in the topic `post_topics` gives it
(topic_id ≥ 0); per week, in the ISO week (Monday) of the post.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from socialleads.dominate.members import DominateError, Member, registered, topic_labels, topics_reason
from socialleads.graph.build import DEFAULT_WEIGHTS, from_edges
from socialleads.graph.rank import pagerank
from socialleads.listen.spikes import BASELINE_HOURS, detect_spikes

KINDS = ("mentions", "posts", "engagement")
KIND_LABELS = {"mentions": "mention-SoV", "posts": "post-SoV", "engagement": "engagement-SoV"}
ENGAGEMENT_TYPES = ("reply", "repost", "quote", "like")


def _events_sql(members_view: str) -> str:
    types = ", ".join(f"'{t}'" for t in ENGAGEMENT_TYPES)
    return f"""
    WITH sp AS (
      SELECT p.post_key, m.member, min(p.created_at) AS t FROM posts p JOIN {members_view} m
        ON p.author_key = m.account_key
      WHERE p.kind <> 'repost' AND NOT coalesce(p.is_deleted, FALSE)
        AND p.created_at >= CAST($start AS TIMESTAMP) AND p.created_at <= CAST($end AS TIMESTAMP)
      GROUP BY 1, 2),
    mp AS (
      SELECT DISTINCT e.post_key, m.member, p.created_at AS t
      FROM post_entities e JOIN {members_view} m ON e.target_account_key = m.account_key
      JOIN posts p ON p.post_key = e.post_key
      LEFT JOIN {members_view} am ON am.account_key = p.author_key
      WHERE e.etype = 'mention' AND NOT coalesce(p.is_deleted, FALSE)
        AND p.created_at >= CAST($start AS TIMESTAMP) AND p.created_at <= CAST($end AS TIMESTAMP)
        AND (am.member IS NULL OR am.member <> m.member)),
    ep AS (
      SELECT sp.post_key, sp.member, sp.t, count(*) AS n FROM interactions i JOIN sp ON i.target_post_key = sp.post_key
      LEFT JOIN {members_view} am ON am.account_key = i.actor_key
      WHERE i.type IN ({types}) AND i.actor_key IS NOT NULL AND (am.member IS NULL OR am.member <> sp.member)
      GROUP BY 1, 2, 3)
    SELECT 'posts' AS kind, post_key, member, t, 1 AS n FROM sp
    UNION ALL SELECT 'mentions', post_key, member, t, 1 FROM mp
    UNION ALL SELECT 'engagement', post_key, member, t, n FROM ep
    """


def _shares(rows: list[tuple[Any, ...]], names: list[str]) -> dict[str, Any]:
    counts = dict.fromkeys(names, 0)
    for member, n in rows:
        counts[member] = int(n)
    total = sum(counts.values())
    return {"counts": counts, "total": total,
            "share": {m: (c / total if total else None) for m, c in counts.items()}}


def share_of_voice(store: Any, members: Sequence[Member], start: dt.datetime, end: dt.datetime, *,
                   weekly: bool = True) -> dict[str, Any]:
    """SoV of each member of S by mentions, posts and engagement: overall, per topic and per week.

    Returns {kinds: {kind: {label, counts, total, share}}, by_topic: {kind: [{topic_id, label, counts,
    total, share}]} or None with `topics_reason`, weekly: {kind: [{week, counts, share}]}}."""
    names = [m.name for m in members]
    has_topics = topics_reason(store) is None
    out: dict[str, Any] = {"members": [{"name": m.name, "keys": list(m.keys), "is_owner": m.is_owner}
                                       for m in members],
                           "window": {"start": start.isoformat(), "end": end.isoformat()}, "kinds": {},
                           "by_topic": None, "topics_reason": None if has_topics else topics_reason(store),
                           "weekly": {}}
    ev = f"_dominate_events_{uuid.uuid4().hex}"
    con = store.con
    with registered(store, members) as view:
        con.execute(f"CREATE TEMP TABLE {ev} AS {_events_sql(view)}", {"start": start, "end": end}).fetchall()
    try:
        for kind in KINDS:
            rows = con.execute(f"SELECT member, sum(n) FROM {ev} WHERE kind = ? GROUP BY 1", [kind]).fetchall()
            out["kinds"][kind] = {"label": KIND_LABELS[kind], **_shares(rows, names)}
        if weekly:
            rows = con.execute(f"SELECT kind, date_trunc('week', t) AS w, member, sum(n) FROM {ev} "
                               f"GROUP BY ALL ORDER BY 2").fetchall()
            for kind in KINDS:
                weeks: dict[str, list[tuple[str, int]]] = {}
                for k, w, member, n in rows:
                    if k == kind:
                        weeks.setdefault(w.date().isoformat(), []).append((member, n))
                out["weekly"][kind] = [{"week": w, **_shares(r, names)} for w, r in sorted(weeks.items())]
        if has_topics:
            labels = topic_labels(store)
            rows = con.execute(f"SELECT e.kind, pt.topic_id, e.member, sum(e.n) FROM {ev} e "
                               f"JOIN post_topics pt ON pt.post_key = e.post_key WHERE pt.topic_id >= 0 "
                               f"GROUP BY ALL").fetchall()
            by: dict[str, dict[int, list[tuple[str, int]]]] = {k: {} for k in KINDS}
            for k, tid, member, n in rows:
                by[k].setdefault(int(tid), []).append((member, n))
            out["by_topic"] = {k: [{"topic_id": tid, "label": labels.get(tid, f"topic {tid}"), **_shares(r, names)}
                                   for tid, r in sorted(by[k].items())] for k in KINDS}
    finally:
        con.execute(f"DROP TABLE IF EXISTS {ev}").fetchall()
    return out


def whitespace(store: Any, members: Sequence[Member], start: dt.datetime, end: dt.datetime,
               limit: int | None = None) -> dict[str, Any]:
    """Topics with audience demand and little supply from S (METRICS.md §4), ranked by
    score = demand ÷ (1 + S's posts), demand = volume + questions: `volume` = posts in the topic in W by
    accounts outside S, `questions` = those of them that ask (post_signals.is_question; a question is
    demand twice, once as a post and once as an explicit ask). Without post_signals, questions are not
    counted and `questions_reason` says so."""
    reason = topics_reason(store)
    if reason:
        return {"available": False, "reason": reason, "topics": []}
    con = store.con
    n_sig = con.execute("SELECT count(*) FROM post_signals").fetchall()[0][0]
    labels = topic_labels(store)
    with registered(store, members) as view:
        rows = con.execute(f"""
        SELECT pt.topic_id,
               count(*) FILTER (WHERE m.member IS NULL) AS volume,
               count(*) FILTER (WHERE m.member IS NULL AND coalesce(s.is_question, FALSE)) AS questions,
               count(*) FILTER (WHERE m.member IS NOT NULL AND p.kind <> 'repost') AS supply
        FROM post_topics pt JOIN posts p ON p.post_key = pt.post_key
        LEFT JOIN {view} m ON m.account_key = p.author_key
        LEFT JOIN post_signals s ON s.post_key = p.post_key
        WHERE pt.topic_id >= 0 AND NOT coalesce(p.is_deleted, FALSE)
          AND p.created_at >= CAST(? AS TIMESTAMP) AND p.created_at <= CAST(? AS TIMESTAMP)
        GROUP BY 1""", [start, end]).fetchall()
    topics = []
    for tid, vol, q, sup in rows:
        demand = int(vol) + (int(q) if n_sig else 0)
        topics.append({"topic_id": int(tid), "label": labels.get(int(tid), f"topic {tid}"), "volume": int(vol),
                       "questions": int(q) if n_sig else None, "supply": int(sup), "demand": demand,
                       "score": demand / (1 + int(sup))})
    topics.sort(key=lambda r: (-r["score"], r["topic_id"]))
    for i, r in enumerate(topics, 1):
        r["rank"] = i
    return {"available": True, "topics": topics[:limit] if limit else topics,
            "questions_reason": None if n_sig else "no post signals: run `leads enrich` to count questions"}


def first_movers(store: Any, members: Sequence[Member], start: dt.datetime, end: dt.datetime, *,
                 k: float = 2.0, alpha: float = 0.01, lookback_hours: int = BASELINE_HOURS) -> dict[str, Any]:
    """Emerging topics and who posted first on each (METRICS.md §4 "first mover").

    A topic is emerging when the first spike (listen/spikes.py, over its hourly post count across all the
    stored data) falls in W; emergence = the first hour of that spike. A member's lead time = its first
    post on the topic at or after (emergence − `lookback_hours`, the spike's baseline week) − emergence,
    in hours (negative = before the spike). The first mover of a topic is the member with the smallest
    lead time; first-mover share of s = emerging topics where s posted first ÷ emerging topics."""
    reason = topics_reason(store)
    names = [m.name for m in members]
    if reason:
        return {"available": False, "reason": reason, "topics": [], "first_mover_share": {}}
    con = store.con
    rows = con.execute("""
        SELECT pt.topic_id, date_trunc('hour', p.created_at) AS h, count(*) FROM post_topics pt
        JOIN posts p ON p.post_key = pt.post_key
        WHERE pt.topic_id >= 0 AND p.created_at IS NOT NULL GROUP BY 1, 2""").fetchnumpy()
    bounds = con.execute("SELECT min(created_at), max(created_at) FROM posts").fetchall()[0]
    labels = topic_labels(store)
    emerging: list[dict[str, Any]] = []
    if len(rows["topic_id"]) and bounds[0] is not None:
        lo = np.datetime64(bounds[0], "h")
        nh = int((np.datetime64(bounds[1], "h") - lo) // np.timedelta64(1, "h")) + 1
        tid = np.asarray(rows["topic_id"], np.int64)
        hi = ((np.asarray(rows["h"]).astype("datetime64[h]") - lo) // np.timedelta64(1, "h")).astype(np.int64)
        cnt = np.asarray(rows["count_star()"] if "count_star()" in rows else list(rows.values())[2], np.int64)
        hours = lo + np.arange(nh) * np.timedelta64(1, "h")
        w0, w1 = np.datetime64(start.replace(tzinfo=None), "s"), np.datetime64(end.replace(tzinfo=None), "s")
        for t in np.unique(tid).tolist():  # one spike scan (numpy) per topic
            sel = tid == t
            series = np.bincount(hi[sel], weights=cnt[sel], minlength=nh).astype(np.int64)
            alerts = detect_spikes(hours, series, k=k, alpha=alpha)
            if alerts and w0 <= np.datetime64(alerts[0].start, "s") <= w1:
                emerging.append({"topic_id": int(t), "label": labels.get(int(t), f"topic {t}"),
                                 "emergence": alerts[0].start, "peak_count": alerts[0].peak_count})
    share = dict.fromkeys(names, 0.0)
    if not emerging:
        return {"available": True, "topics": [], "emerging_topics": 0,
                "first_mover_share": {m: None for m in names},
                "note": "no topic had its first spike in the window"}
    em = pa.table({"topic_id": pa.array([e["topic_id"] for e in emerging], pa.int64()),
                   "emergence": pa.array([e["emergence"] for e in emerging], pa.timestamp("us"))})
    name = f"_dominate_emerging_{uuid.uuid4().hex}"
    con.register(name, em)
    try:
        with registered(store, members) as view:
            firsts = con.execute(f"""
            SELECT e.topic_id, m.member, min(p.created_at) AS first, any_value(e.emergence) AS emergence
            FROM {name} e JOIN post_topics pt ON pt.topic_id = e.topic_id
            JOIN posts p ON p.post_key = pt.post_key JOIN {view} m ON m.account_key = p.author_key
            WHERE p.kind <> 'repost' AND NOT coalesce(p.is_deleted, FALSE)
              AND p.created_at >= e.emergence - to_hours(CAST(? AS BIGINT))
            GROUP BY 1, 2""", [lookback_hours]).fetchall()
    finally:
        con.unregister(name)
    lead: dict[int, dict[str, float]] = {}
    for t, member, first, emergence in firsts:
        lead.setdefault(int(t), {})[member] = (first - emergence).total_seconds() / 3600.0
    for e in emerging:
        lt = lead.get(e["topic_id"], {})
        e["lead_hours"] = {m: lt.get(m) for m in names}
        e["first_mover"] = min(lt, key=lambda m: (lt[m], names.index(m))) if lt else None
        e["emergence"] = e["emergence"].isoformat()
        if e["first_mover"]:
            share[e["first_mover"]] += 1
    return {"available": True, "topics": emerging, "emerging_topics": len(emerging),
            "first_mover_share": {m: share[m] / len(emerging) for m in names}}


def topic_authority(store: Any, members: Sequence[Member], start: dt.datetime, end: dt.datetime, *,
                    sov: dict[str, Any] | None = None) -> dict[str, Any]:
    """Per topic: each member's share of the engagement on S's posts in the topic (= engagement-SoV per
    topic) and its PageRank within the topic's subgraph: the interaction graph (METRICS.md §2 weights)
    restricted to interactions in W on posts of the topic (edge actor → the post's author). A member's
    PageRank is the sum over its accounts; `rank` is its place among all the subgraph's accounts."""
    reason = topics_reason(store)
    if reason:
        return {"available": False, "reason": reason, "topics": []}
    names = [m.name for m in members]
    if sov is None:
        sov = share_of_voice(store, members, start, end, weekly=False)
    eng = {r["topic_id"]: r for r in (sov.get("by_topic") or {}).get("engagement", [])}
    case = " ".join(f"WHEN '{t}' THEN {w!r}" for t, w in DEFAULT_WEIGHTS.items())
    tbl = store.con.sql(f"""
        SELECT pt.topic_id, i.actor_key AS src, p.author_key AS dst, sum(CASE i.type {case} END) AS w
        FROM interactions i JOIN posts p ON p.post_key = i.target_post_key
        JOIN post_topics pt ON pt.post_key = i.target_post_key
        WHERE pt.topic_id >= 0 AND i.type IN ('reply', 'mention', 'repost', 'quote', 'like')
          AND i.actor_key IS NOT NULL AND p.author_key IS NOT NULL AND i.actor_key <> p.author_key
          AND i.created_at >= CAST(? AS TIMESTAMP) AND i.created_at <= CAST(? AS TIMESTAMP)
        GROUP BY 1, 2, 3 ORDER BY 1""", params=[start, end]).to_arrow_table()
    tid = tbl["topic_id"].to_numpy()
    labels = topic_labels(store)
    topics = []
    member_keys = np.array(sorted({k for m in members for k in m.keys}), dtype=object)
    for t in sorted(set(eng) | set(np.unique(tid).tolist())):  # one small PageRank per topic
        lo, hi = np.searchsorted(tid, t, side="left"), np.searchsorted(tid, t, side="right")  # rows ORDER BY topic
        row: dict[str, Any] = {"topic_id": int(t), "label": labels.get(int(t), f"topic {t}"),
                               "engagement_share": eng.get(t, {}).get("share", dict.fromkeys(names)),
                               "pagerank": dict.fromkeys(names), "rank": dict.fromkeys(names), "accounts": 0}
        if hi > lo:
            sub = tbl.slice(int(lo), int(hi - lo))  # zero-copy: the topic's rows are contiguous
            g = from_edges(sub["src"], sub["dst"], sub["w"])
            pr = pagerank(g)
            gk = np.asarray(g.keys, dtype=object)
            idx = {gk[i]: int(i) for i in np.flatnonzero(np.isin(gk, member_keys))}  # only S's accounts
            order = np.argsort(-pr, kind="stable")
            place = np.empty(len(pr), np.int64)
            place[order] = np.arange(1, len(pr) + 1)
            row["accounts"] = g.n
            for m in members:
                ii = [idx[k] for k in m.keys if k in idx]
                if ii:
                    row["pagerank"][m.name] = float(pr[ii].sum())
                    row["rank"][m.name] = int(place[ii].min())
        topics.append(row)
    return {"available": True, "topics": topics}


def sov_kind(kind: str) -> str:
    if kind not in KINDS:
        raise DominateError(f"--by: expected one of {', '.join(KINDS)}, got {kind!r}")
    return kind


__all__ = ["ENGAGEMENT_TYPES", "KINDS", "KIND_LABELS", "first_movers", "share_of_voice", "sov_kind",
           "topic_authority", "whitespace"]
